"""`thidua decide`'s documents: the Quyết định khen thưởng and the Giấy khen, from the approved list.

- `quyet-dinh-khen-thuong-<period>.docx`: the decision (Decree 30) with the approved Danh sách;
- `giay-khen-<period>.docx`: one page per awardee, in the Quyết định's order: on the office's pre-printed
  blanks (the texts framed at `decision.positions`, millimetres in config.toml), or printed whole
  (`decision.certificate = "plain"`);
- `giay-khen-can-chinh-<period>.docx` (pre-printed blanks only): one page of boxed labels at those
  positions, to print on a blank and measure before using up the real ones.

The templates are the clerk's (input_templates/), sandboxed and checked like the others
(documents.check_template); their variables are in docs/template-variables.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from processor import commend
from processor.breakdown import BreakdownResult
from processor.config import Box, CertificatePositions, Config
from processor.records import PeriodResult
from processor.render import documents
from processor.render.docx_files import CERTIFICATE, CERTIFICATE_PLAIN, DECISION
from processor.vntext import format_money

# Paragraph style of each framed text of the pre-printed template -> its config.toml position.
FIELD_STYLES = {
    "GKName": "name",
    "GKUnit": "unit",
    "GKAchievement": "achievement",
    "GKDecision": "decision",
    "GKPlaceDate": "place_date",
    "GKSigner": "signer",
}
CALIBRATION_LABELS = {
    "name": "[Họ và tên / Tên tập thể]",
    "unit_line": "[Chức vụ, đơn vị]",
    "achievement_line": "[Thành tích]",
    "decision_line": "[Số, ngày Quyết định]",
    "place_date": "[Địa danh, ngày tháng năm]",
    "signer_block": "[Chức vụ người ký]\n\n\n[Họ và tên người ký]",
}


# The values of each Giấy khen (docs/template-variables.md, "certificates").
CERTIFICATE_KEYS = (
    "name", "kind", "position", "unit", "unit_line", "award", "achievement_line", "decision_line",
    "place_date", "signer_block", "authority_line",
)  # fmt: skip


def output_names(period_text: str) -> dict[str, str]:
    return {
        DECISION: f"quyet-dinh-khen-thuong-{period_text}.docx",
        CERTIFICATE: f"giay-khen-{period_text}.docx",
    }


def calibration_name(period_text: str) -> str:
    return f"giay-khen-can-chinh-{period_text}.docx"


def all_names(period_text: str) -> list[str]:
    """Every document `write_decision_documents` may write for the period, PDFs included."""
    docx = [*output_names(period_text).values(), calibration_name(period_text)]
    return docx + [name.removesuffix(".docx") + ".pdf" for name in docx]


def _certificate_template(config: Config) -> str:
    return CERTIFICATE_PLAIN if config.decision.certificate == "plain" else CERTIFICATE


def check_templates(template_dir: Path, config: Config) -> None:
    """Syntax and safety of the decide templates, before any received file is read."""
    for name in (DECISION, _certificate_template(config)):
        documents.check_template(documents.resolve_template(template_dir, name))


def authority_line(config: Config) -> str:
    line = config.decision.authority_line.strip()
    return line or f"{config.office.signer_title} {config.office.parent_body}".upper()


@dataclass(frozen=True)
class DecisionSection:
    """The Quyết định's and the Giấy khen's own values, over the approved list; the template context adds
    them to the tờ trình's (documents.DocumentContext). Field names are template variables: never renamed."""

    decision_number: str
    decision_subject: str
    decision_list_title: str
    decision_award_text: str
    authority_line: str
    signer_title_words: str
    proposer: str
    executors: str
    executors_article: str
    decision_recipients: list[str]
    has_reward: bool
    reward_text: str
    reward_total: str
    approved_counts: str
    individuals_heading: str
    certificates: list[dict]
    certificates_count: str


@dataclass(frozen=True)
class _Reward:
    """The reward article (Điều 2), only when `decision.reward_*_vnd` gives something to someone approved."""

    given: bool
    text: str
    total: int


def _reward(config: Config, phrase: str, collectives: int, individuals: int) -> _Reward:
    settings = config.decision
    parts = []
    if settings.reward_collective_vnd and collectives:
        parts.append(f"mỗi tập thể được thưởng {format_money(settings.reward_collective_vnd)} đồng")
    if settings.reward_individual_vnd and individuals:
        parts.append(f"mỗi cá nhân được thưởng {format_money(settings.reward_individual_vnd)} đồng")
    total = settings.reward_collective_vnd * collectives + settings.reward_individual_vnd * individuals
    if not parts:
        return _Reward(False, "", total)
    text = (
        f"Kèm theo {phrase.removeprefix('tặng ')}, "
        f"{'; '.join(parts)}. Tổng số tiền thưởng: {format_money(total)} đồng, chi từ "
        f"{settings.reward_source}."
    )
    return _Reward(True, text, total)


def _certificates(
    config: Config, result: PeriodResult, approved, *, decision_line: str, place_date: str, signer_block: str
) -> list[dict]:
    """One Giấy khen's values per approved decision, in the Quyết định's order."""
    campaign = documents._campaign(config, result)
    names = documents._unit_names(config, result)
    authority = authority_line(config)
    campaign_rule_set = commend.rule_set_for(config, result).id
    certificates = []
    for d in approved:
        collective = d.subject == commend.COLLECTIVE
        unit = "" if collective else names.get(d.unit_code, d.unit_code)
        unit_line = f"{d.position}, {unit}" if not collective and d.position else unit
        if d.rule_set_id and d.rule_set_id != campaign_rule_set:
            achievement = f"Đạt danh hiệu {d.award_name} năm {result.period.year}"
        else:
            achievement = f"Đã có thành tích xuất sắc trong {campaign.short_name}"
        certificates.append(
            {
                "name": d.subject_name,
                "kind": "Tập thể" if collective else "Cá nhân",
                "position": d.position,
                "unit": unit,
                "unit_line": unit_line,
                "award": d.award_name,
                "achievement_line": achievement,
                "decision_line": decision_line,
                "place_date": place_date,
                "signer_block": signer_block,
                "authority_line": authority,
            }
        )
    return certificates


def _decision_section(
    config: Config, result: PeriodResult, approved, proposal: documents.DocumentContext
) -> DecisionSection:
    settings = config.decision
    achieved = f"thành tích xuất sắc trong {documents._campaign(config, result).short_name}"
    decision_number = documents._number(config, "QĐ", None)
    collectives = sum(d.subject == commend.COLLECTIVE for d in approved)
    individuals = sum(d.subject == commend.INDIVIDUAL for d in approved)
    counts = documents._proposal_counts(collectives, individuals)
    phrase = proposal.rules.award_phrase
    reward = _reward(config, phrase, collectives, individuals)
    article = "Điều 3" if reward.given else "Điều 2"  # who carries it out follows the reward article
    certificates = _certificates(
        config,
        result,
        approved,
        decision_line=f"Quyết định số {decision_number} ngày {proposal.issue.issue_date}",
        place_date=proposal.issue.place_date,
        signer_block=f"{proposal.office.signer_heading}\n\n\n\n{config.office.signer_name}",
    )
    return DecisionSection(
        decision_number=decision_number,
        decision_subject=f"Về việc {phrase} cho các tập thể, cá nhân có {achieved}",
        decision_list_title=f"Các tập thể, cá nhân được {phrase} (có {achieved})",
        decision_award_text=f"{phrase[:1].upper()}{phrase[1:]} cho {counts}",
        authority_line=authority_line(config),
        signer_title_words=_title_words(config),
        proposer=settings.proposer,
        executors=settings.executors,
        executors_article=article,
        decision_recipients=[f"Như {article}", *settings.recipients],
        has_reward=reward.given,
        reward_text=reward.text,
        reward_total=format_money(reward.total),
        approved_counts=counts,
        individuals_heading="II. CÁ NHÂN" if collectives else "I. CÁ NHÂN",
        certificates=certificates,
        certificates_count=str(len(certificates)),
    )


def build_decision_context(
    config: Config,
    result: PeriodResult,
    review,
    *,
    breakdowns: Sequence[BreakdownResult],
    today: dt.date | None = None,
) -> dict:
    """The tờ trình's context for the approved list, with the Quyết định's and the Giấy khen's values.

    `breakdowns`: breakdown.breakdowns of `result` and the approved list (decide computes them once)."""
    approved = review.approved
    proposal = documents.document_context(config, result, approved, breakdowns=breakdowns, today=today)
    decision = _decision_section(config, result, approved, proposal)
    own = {f.name: getattr(decision, f.name) for f in dataclasses.fields(decision)}
    return {**proposal.as_template_context(), **documents._clean(own)}  # type: ignore[dict-item]


def _title_words(config: Config) -> str:
    """'Chánh Văn phòng UBND tỉnh Lào Cai' from the authority line in capitals: the deciding authority
    as config names it for the tờ trình (Kính gửi) reads the same."""
    return config.office.deciding_authority or authority_line(config).capitalize()


def _mm_twips(value: float) -> str:
    return str(round(value * 1440 / 25.4))


def _place_fields(document, positions: CertificatePositions, *, boxed: bool) -> None:
    """Set each framed text's frame to its config.toml position; `boxed`: draw the frame (calibration)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    from processor.render.docx_files import FRAMEPR_SUCCESSORS

    for paragraph in document.element.body.iter(qn("w:p")):
        ppr = paragraph.find(qn("w:pPr"))
        style = ppr.find(qn("w:pStyle")) if ppr is not None else None
        field_name = FIELD_STYLES.get(style.get(qn("w:val")) if style is not None else "")
        if field_name is None:
            continue
        box: Box = getattr(positions, field_name)
        frame = ppr.find(qn("w:framePr"))
        if frame is None:
            frame = OxmlElement("w:framePr")
            ppr.insert_element_before(frame, *FRAMEPR_SUCCESSORS)
        for key, value in (("w", box.width), ("h", box.height), ("x", box.x), ("y", box.y)):
            frame.set(qn(f"w:{key}"), _mm_twips(value))
        for key, value in (("hRule", "exact"), ("hAnchor", "page"), ("vAnchor", "page"), ("wrap", "around")):
            frame.set(qn(f"w:{key}"), value)
        if boxed and ppr.find(qn("w:pBdr")) is None:
            borders = OxmlElement("w:pBdr")
            for side in ("top", "left", "bottom", "right"):
                edge = OxmlElement(f"w:{side}")
                for key, value in (("val", "single"), ("sz", "4"), ("space", "0"), ("color", "auto")):
                    edge.set(qn(f"w:{key}"), value)
                borders.append(edge)
            ppr.insert_element_before(borders, *FRAMEPR_SUCCESSORS[FRAMEPR_SUCCESSORS.index("w:shd") :])


def _render(
    path: Path, context: dict, out_path: Path, positions: CertificatePositions | None, boxed: bool
) -> Path:
    """documents.render_template, with the Giấy khen's frames placed before saving."""
    finish = None if positions is None else lambda document: _place_fields(document, positions, boxed=boxed)
    return documents.render_template(path, context, out_path, finish=finish)


def write_decision_documents(
    config: Config,
    result: PeriodResult,
    review,
    template_dir: Path,
    out_dir: Path,
    *,
    breakdowns: Sequence[BreakdownResult],
    today: dt.date | None = None,
) -> list[Path]:
    """The Quyết định, the Giấy khen and (pre-printed blanks) the calibration page; their paths."""
    context = build_decision_context(config, result, review, breakdowns=breakdowns, today=today)
    names = output_names(str(result.period))
    decision_template = documents.resolve_template(template_dir, DECISION)
    certificate_name = _certificate_template(config)
    certificate_template = documents.resolve_template(template_dir, certificate_name)
    for path in (decision_template, certificate_template):
        documents.check_template(path, context)
    preprinted = certificate_name == CERTIFICATE
    positions = config.decision.positions if preprinted else None
    written = [documents.render_template(decision_template, context, out_dir / names[DECISION], checked=True)]
    if context["certificates"]:
        written.append(_render(certificate_template, context, out_dir / names[CERTIFICATE], positions, False))
    if preprinted:
        sample = {key: "" for key in CERTIFICATE_KEYS} | CALIBRATION_LABELS
        calibration = {**context, "certificates": [sample]}
        written.append(
            _render(
                certificate_template,
                calibration,
                out_dir / calibration_name(str(result.period)),
                positions,
                True,
            )
        )
    return written

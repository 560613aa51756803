"""The findings catalogue: every finding code, its severity and its Vietnamese message, in one place.

A reviewer reads every message the clerk and the units can get here (docs/findings.md is generated
from this module: `python -m processor.devtools.findings_doc`). The checks name a message by its key
and pass the values it quotes; the record they make is the plain `records.Finding`.

A key is the finding's code, or the code and a variant after a slash ("invalid_date/not_real") where
one code has several wordings. The code is what outputs and tests see; the severity belongs to the code
(every variant of a code has the same one, tests/test_findings_catalogue.py checks it).

Templates are `str.format` templates: `{name}` is a value the check passes. `{unit_sheet}`,
`{staff_sheet}`, `{meta_sheet}` and `{form_id}` are the form's own names, filled in once when this
module is loaded. Most messages say what is wrong and then what to do, in that order.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from processor import form
from processor.records import Finding, Severity

E, W = Severity.ERROR, Severity.WARNING

# The form's names, put into the templates once (not passed by every check).
FORM_NAMES = {
    "unit_sheet": form.UNIT_SHEET,
    "staff_sheet": form.STAFF_SHEET,
    "meta_sheet": form.META_SHEET,
    "form_id": form.FORM_ID,
}

# Names the builders below take for the record itself: never a template's placeholder.
RESERVED = frozenset({"key", "file", "sheet", "cell", "field", "value", "row"})


@dataclass(frozen=True, slots=True)
class Message:
    """One wording of one finding code."""

    key: str  # "code" or "code/variant"
    severity: Severity
    template: str  # as written below; `text` has the form's names filled in
    stage: str  # where it is found, for the documentation
    text: str = ""
    fields: tuple[str, ...] = ()  # the placeholders a check passes, in order of first use

    @property
    def code(self) -> str:
        return self.key.partition("/")[0]

    def format(self, fields: dict[str, object]) -> str:
        return self.text.format_map(fields) if self.fields else self.text


def _placeholders(template: str) -> tuple[str, ...]:
    names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    return tuple(dict.fromkeys(names))


# ------------------------------------------------------------------------------------------------
# The catalogue, stage by stage in the order of a run.

_COLLECT = "Collect: the inbox and the e-mails in it (collect.py)"
_MAIL = "Fetch: the mailbox (mail/fetch.py)"
_READ = "Read: a workbook that cannot be read safely (reader.py)"
_WORKER = "The worker process reading a file (validation.py)"
_FORM = "Validate: the form as a whole (validate.py)"
_CELL = "Validate: one cell (validate.py)"
_ACROSS = "Validate: across files (validate.cross_check)"
_RESOLVE = "Resolve: senders and corrections (resolve.py)"
_MEMO = "The memo of earlier runs (ingest_cache.py)"
_FEEDBACK = "Render: the feedback to the units (render/feedback.py)"
_APPROVAL = "Decide: the council's approval workbook (decide.py)"

_ENTRIES = [
    # -- collect: the inbox and the e-mails in it ------------------------------------------------
    (_COLLECT, "file_not_found/in_folder", E,
     "Không có tệp này: không tìm thấy “{name}” trong thư mục {folder}. Kiểm tra lại tên tệp (cả phần "
     "đuôi, như .xlsx) và thư mục; tên có dấu cách phải đặt trong dấu nháy kép."),
    (_COLLECT, "file_not_found/no_folder", E,
     "Không có tệp này: không tìm thấy “{name}” vì không có thư mục {folder}. Kiểm tra lại tên tệp (cả "
     "phần đuôi, như .xlsx) và thư mục; tên có dấu cách phải đặt trong dấu nháy kép."),
    (_COLLECT, "not_a_report/clutter", W,
     "Đây là tệp khóa hoặc tệp tạm do Excel, LibreOffice hay hệ điều hành tạo ra, không phải báo cáo; đã "
     "bỏ qua."),
    (_COLLECT, "not_a_report/resave", W,
     "Tệp định dạng {suffix} không phải biểu mẫu báo cáo. Đề nghị đơn vị mở tệp, lưu lại dạng Excel "
     "Workbook (.xlsx) rồi gửi lại; tệp này đã bỏ qua."),
    (_COLLECT, "not_a_report/archive", W,
     "Tệp nén {suffix} không phải biểu mẫu báo cáo: giải nén các biểu mẫu trong đó vào thư mục nhận rồi "
     "chạy lại; tệp nén đã bỏ qua."),
    (_COLLECT, "not_a_report/suffix", W,
     "Tệp {suffix} không phải biểu mẫu báo cáo (chỉ nhận bảng tính .xlsx, .xlsm, .xls, .ods hoặc thư điện "
     "tử .eml, .msg có đính kèm biểu mẫu); đã bỏ qua."),
    (_COLLECT, "not_a_report/no_suffix", W,
     "Tệp không có phần mở rộng không phải biểu mẫu báo cáo (chỉ nhận bảng tính .xlsx, .xlsm, .xls, .ods "
     "hoặc thư điện tử .eml, .msg có đính kèm biểu mẫu); đã bỏ qua."),
    (_COLLECT, "email_unreadable/msg", E,
     "Tệp .msg bị hỏng hoặc không phải thư Outlook, không đọc được. Mở thư trong Outlook, lưu lại (File › "
     "Save As) hoặc lưu riêng tệp đính kèm vào thư mục nhận rồi chạy lại."),
    (_COLLECT, "email_unreadable/eml", E,
     "Tệp .eml bị hỏng hoặc không phải thư điện tử (không có phần tiêu đề thư), không đọc được. Lưu lại "
     "thư từ chương trình thư điện tử, hoặc lưu riêng tệp đính kèm vào thư mục nhận rồi chạy lại."),
    # {details}: the hints below ("attachments_listed", "winmail", ...), each after a space.
    (_COLLECT, "no_workbook_attachment", W,
     "Thư không có tệp biểu mẫu báo cáo đính kèm (.xlsx, .xlsm, .xls, .ods); đã bỏ qua.{details}"),
    (_COLLECT, "too_many_attachments", W,
     "Thư có hơn {limit} tệp đính kèm (tính cả thư chuyển tiếp kèm theo): chỉ {limit} tệp đầu được xem "
     "xét, {dropped} tệp còn lại đã bỏ qua. Đề nghị đơn vị gửi mỗi báo cáo một thư; nếu thư này đúng là "
     "thư tổng hợp, lưu các tệp báo cáo vào thư mục nhận hoặc tăng validation.max_attachments trong "
     "config.toml."),
    (_COLLECT, "file_unreadable/gone", E,
     "Tệp không còn trong thư mục (đã bị xóa hoặc di chuyển trong lúc chạy). Chạy lại khi các tệp đã được "
     "chép xong."),
    (_COLLECT, "file_unreadable/permission", E,
     "Không có quyền đọc tệp, hoặc tệp đang bị chương trình khác khóa. Đóng tệp hoặc cấp quyền đọc rồi "
     "chạy lại."),
    (_COLLECT, "file_unreadable/folder", E, "Đây là một thư mục, không phải tệp."),
    (_COLLECT, "file_unreadable/other", E, "Không đọc được tệp: {reason}."),
    (_COLLECT, "folder_unreadable/permission", E,
     "Không có quyền mở thư mục này; các tệp bên trong chưa được kiểm tra. Cấp quyền đọc rồi chạy lại."),
    (_COLLECT, "folder_unreadable/other", E,
     "Không mở được thư mục này ({reason}); các tệp bên trong chưa được kiểm tra."),
    (_COLLECT, "file_changing", E,
     "Tệp đang thay đổi trong lúc đọc (có thể đang được chép vào thư mục). Chờ chép xong rồi chạy lại."),
    (_COLLECT, "file_too_large/inbox", E,
     "Tệp dung lượng {size_mb} MB, vượt giới hạn {limit_mb} MB nên không được đọc. Kiểm tra lại tệp; nếu "
     "đúng là báo cáo, tăng validation.max_file_mb trong config.toml."),
    (_COLLECT, "link_not_followed", W,
     "Đây là lối tắt (liên kết tới một tệp hay thư mục ở nơi khác), không phải tệp nhận được: chương trình "
     "không mở lối tắt để không đọc nhầm tệp nằm ngoài thư mục nhận. Chép chính tệp báo cáo vào thư mục "
     "nhận rồi chạy lại."),
    (_COLLECT, "special_file", W,
     "Đây không phải tệp thông thường (ống dẫn, socket hoặc tệp thiết bị) nên không được mở. Xóa mục này "
     "khỏi thư mục nhận; báo cáo phải là tệp Excel hoặc thư điện tử đã lưu."),
    (_COLLECT, "folder_too_deep", E,
     "Thư mục này nằm sâu hơn {depth} cấp trong thư mục nhận nên không được mở; các tệp bên trong chưa "
     "được kiểm tra. Chuyển các tệp báo cáo lên thư mục ít cấp hơn rồi chạy lại."),
    # {label}: which time ("Ngày giờ gửi ghi trong thư (tiêu đề Date)"); {consequence}: empty, or the
    # hint "not_replacing" after a space.
    (_COLLECT, "received_time_not_believed/too_late", W,
     "{label} là {when}, muộn hơn thời điểm đọc tệp quá một ngày, nên không được dùng làm thời điểm nhận "
     "(thư có thể bị giả mạo, hoặc đồng hồ máy gửi bị sai). Thời điểm nhận lấy theo {used}.{consequence} "
     "Kiểm tra lại thư với đơn vị."),
    (_COLLECT, "received_time_not_believed/before_campaign", W,
     "{label} là {when}, trước ngày bắt đầu đợt thi đua ({start}), nên không được dùng làm thời điểm nhận "
     "(thư có thể bị giả mạo, hoặc đồng hồ máy gửi bị sai). Thời điểm nhận lấy theo {used}.{consequence} "
     "Kiểm tra lại thư với đơn vị."),
    # -- mail: the mailbox -----------------------------------------------------------------------
    (_MAIL, "mail_too_large", W,
     "Thư của {sender} (“{subject}”), nhận lúc {time} ngày {date}, nặng {size_mb} MB, lớn hơn mức "
     "{limit_mb} MB (mail.max_message_mb) nên chưa được tải về. Mở thư trong hộp thư và lưu thư vào thư "
     "mục nhận, hoặc tăng mail.max_message_mb rồi chạy lại “thidua fetch”."),
    # -- reader: a workbook that cannot be read safely -------------------------------------------
    (_READ, "file_empty", E, "Tệp rỗng (0 byte): tệp bị lỗi khi gửi hoặc lưu. Đề nghị đơn vị gửi lại."),
    (_READ, "file_too_large/workbook", E,
     "Tệp quá lớn ({size_mb} MB; giới hạn {limit_mb} MB). Biểu mẫu báo cáo thi đua thường dưới 1 MB: xóa "
     "hình ảnh, sheet thừa rồi gửi lại."),
    (_READ, "not_workbook/renamed", E,
     "Tệp không phải bảng tính Excel: nội dung là {kind}, dù tên tệp có thể là .xlsx. Đề nghị đơn vị gửi "
     "đúng tệp Excel (.xlsx) của biểu mẫu báo cáo."),
    (_READ, "not_workbook/document", E,
     "Tệp không phải bảng tính Excel: nội dung là {kind}. Đề nghị đơn vị gửi tệp Excel (.xlsx) của biểu "
     "mẫu báo cáo."),
    (_READ, "not_workbook/opendocument", E,
     "Tệp không phải bảng tính: nội dung là {kind}. Đề nghị đơn vị gửi biểu mẫu báo cáo dạng bảng tính "
     "(.xlsx hoặc .ods)."),
    (_READ, "corrupt/package", E,
     "Tệp bị hỏng hoặc không đầy đủ (có thể do tải về bị gián đoạn): không mở được. Đề nghị đơn vị mở thử "
     "tệp trên máy của mình, lưu lại và gửi lại."),
    (_READ, "corrupt/part", E,
     "Tệp bị hỏng: thiếu hoặc hỏng thành phần “{part}” (có thể do tải về bị gián đoạn). Đề nghị đơn vị mở "
     "thử tệp trên máy của mình, lưu lại và gửi lại."),
    # {detail}: the reading library's own words (English), for whoever helps the unit.
    (_READ, "corrupt/read_error", E,
     "Không đọc được nội dung tệp (chi tiết kỹ thuật: {detail}). Đề nghị đơn vị mở tệp bằng Excel, lưu "
     "lại dạng .xlsx và gửi lại."),
    (_READ, "corrupt/xls", E,
     "Tệp Excel 97-2003 bị hỏng hoặc không đầy đủ: không mở được. Đề nghị đơn vị mở thử tệp trên máy của "
     "mình, lưu lại dạng .xlsx và gửi lại."),
    (_READ, "corrupt/ods_content", E,
     "Tệp bị hỏng: nội dung bảng tính (content.xml) không đầy đủ (có thể do tải về bị gián đoạn). Đề nghị "
     "đơn vị mở thử tệp trên máy của mình, lưu lại và gửi lại."),
    (_READ, "unsupported_format/xlsb", E,
     "Tệp là bảng tính Excel nhị phân (.xlsb), chương trình chưa đọc được định dạng này. Mở tệp bằng "
     "Excel, chọn Lưu thành (Save As) kiểu “Excel Workbook (*.xlsx)” rồi gửi lại."),
    (_READ, "unsupported_format/compression", E,
     "Thành phần “{part}” của tệp dùng kiểu nén không chuẩn của Excel. Mở tệp bằng Excel, lưu lại dạng "
     ".xlsx rồi gửi lại."),
    (_READ, "unsupported_format/encoding", E,
     "Thành phần “{part}” của tệp dùng bảng mã không phải UTF-8, Excel không tạo ra như vậy. Mở tệp bằng "
     "Excel, lưu lại dạng .xlsx rồi gửi lại."),
    (_READ, "encrypted", E,
     "Tệp được đặt mật khẩu nên không đọc được. Đề nghị đơn vị bỏ mật khẩu (Excel: Tệp › Thông tin › Bảo "
     "vệ sổ làm việc › Mã hóa bằng mật khẩu, xóa mật khẩu) rồi gửi lại."),
    (_READ, "unusual_structure", E,
     "Cấu trúc tệp Excel bất thường: tên các thành phần bên trong tệp không theo chuẩn Excel (có thể do "
     "phần mềm khác tạo ra hoặc tệp đã bị chỉnh sửa), chương trình không đọc tệp này để tránh đọc sai số "
     "liệu. Đề nghị đơn vị mở tệp bằng Excel, lưu lại (Lưu thành › Excel Workbook *.xlsx) rồi gửi lại."),
    (_READ, "zip_too_many_entries", E,
     "Tệp có {count} thành phần bên trong (giới hạn {limit}): không phải biểu mẫu báo cáo bình thường, có "
     "thể là tệp độc hại. Không mở tệp này; đề nghị đơn vị gửi lại biểu mẫu."),
    (_READ, "zip_too_large", E,
     "Tệp khi giải nén lớn tới {size_mb} MB (giới hạn {limit_mb} MB): không phải biểu mẫu báo cáo bình "
     "thường, có thể là tệp độc hại (“bom nén”). Không mở tệp này; đề nghị đơn vị gửi lại biểu mẫu."),
    (_READ, "zip_bomb/ratio", E,
     "Thành phần “{part}” nén với tỷ lệ bất thường ({ratio} lần; giới hạn {limit}): có thể là tệp độc hại "
     "(“bom nén”). Không mở tệp này; đề nghị đơn vị gửi lại biểu mẫu."),
    (_READ, "zip_bomb/size", E,
     "Thành phần “{part}” của tệp có kích thước khai báo sai: có thể là tệp độc hại (“bom nén”). Không mở "
     "tệp này; đề nghị đơn vị gửi lại biểu mẫu."),
    (_READ, "zip_part_too_large", E,
     "Thành phần “{part}” của tệp khi giải nén lớn tới {size_mb} MB (giới hạn {limit_mb} MB): biểu mẫu "
     "báo cáo bình thường nhỏ hơn nhiều. Không mở tệp này; đề nghị đơn vị xóa các dòng, cột thừa rồi gửi "
     "lại biểu mẫu."),
    (_READ, "xml_entities", E,
     "Thành phần “{part}” của tệp chứa khai báo DOCTYPE/ENTITY, Excel không bao giờ tạo ra: có thể là tệp "
     "độc hại (tấn công “billion laughs”). Không mở tệp này; đề nghị đơn vị gửi lại biểu mẫu."),
    (_READ, "strings_too_large/long", E,
     "Tệp có đoạn văn bản dài tới {length} byte có thể được dùng ở rất nhiều ô: đọc tệp sẽ cần hơn "
     "{limit_mb} MB bộ nhớ, không phải biểu mẫu báo cáo bình thường, có thể là tệp độc hại. Đề nghị đơn vị "
     "xóa các ô chứa văn bản quá dài hoặc lặp lại bất thường, lưu lại rồi gửi lại."),
    (_READ, "strings_too_large/repeated", E,
     "Tệp có văn bản lặp lại ở rất nhiều ô: đọc tệp sẽ cần hơn {limit_mb} MB bộ nhớ, không phải biểu mẫu "
     "báo cáo bình thường, có thể là tệp độc hại. Đề nghị đơn vị xóa các ô chứa văn bản quá dài hoặc lặp "
     "lại bất thường, lưu lại rồi gửi lại."),
    (_READ, "sheet_too_large/rows", E,
     "Sheet “{sheet_name}” có dữ liệu tới dòng {last_row} (giới hạn {limit} dòng), ví dụ ô {example}. Xóa "
     "các ô thừa ở cuối sheet (chọn các dòng thừa › Xóa) rồi gửi lại."),
    (_READ, "sheet_too_large/columns", E,
     "Sheet “{sheet_name}” có dữ liệu tới cột {last_column} (giới hạn {limit} cột), ở dòng {at_row}. Xóa "
     "các cột thừa bên phải rồi gửi lại."),
    # -- the worker process reading the file -----------------------------------------------------
    (_WORKER, "reader_crashed", E,
     "Chương trình đọc tệp bị dừng đột ngột khi mở tệp này, hai lần liên tiếp: tệp bị hỏng hoặc có nội "
     "dung bất thường nên chưa được tổng hợp. Đề nghị đơn vị mở tệp bằng Excel, kiểm tra nội dung, lưu lại "
     "dạng .xlsx rồi gửi lại."),
    (_WORKER, "reader_timeout", E,
     "Đọc tệp này quá lâu (hơn {minutes} phút) nên chương trình đã dừng đọc: tệp bị hỏng hoặc có nội dung "
     "bất thường nên chưa được tổng hợp. Đề nghị đơn vị mở tệp bằng Excel, kiểm tra nội dung, lưu lại dạng "
     ".xlsx rồi gửi lại."),
    (_WORKER, "reader_memory", E,
     "Đọc tệp này cần quá nhiều bộ nhớ (hơn {limit_mb} MB) nên chương trình đã dừng đọc: tệp có nội dung "
     "bất thường (ví dụ dữ liệu ở ô rất xa, hoặc một đoạn văn bản rất dài lặp lại ở nhiều ô) nên chưa được "
     "tổng hợp. Đề nghị đơn vị mở tệp bằng Excel, xóa các dòng, cột, ô thừa, lưu lại dạng .xlsx rồi gửi "
     "lại."),
    # -- validate: the form as a whole -----------------------------------------------------------
    # Messages about one cell start in lower case: the check puts "Ô G7: " before them.
    (_FORM, "wrong_form/no_sheets", E,
     "Tệp không phải biểu mẫu báo cáo thi đua: không có sheet “{unit_sheet}” và “{staff_sheet}” (các "
     "sheet trong tệp: {listed}). Dùng biểu mẫu do {clerk_unit} gửi."),
    (_FORM, "wrong_form/other_form", E,
     "Tệp là biểu mẫu “{other_form}”, không phải biểu mẫu báo cáo thi đua tháng (“{form_id}”). Dùng biểu "
     "mẫu do {clerk_unit} gửi."),
    (_FORM, "form_version_old", W,
     "Tệp dùng biểu mẫu phiên bản {version}; biểu mẫu hiện hành là phiên bản {current}, có thêm {listed}. "
     "Số liệu của tệp vẫn được dùng; các cột tệp không có được ghi “không có số liệu”. Kỳ sau dùng biểu "
     "mẫu mới do {clerk_unit} gửi."),
    (_FORM, "form_version_unknown", E,
     "Tệp ghi biểu mẫu phiên bản “{version}”, chương trình không biết phiên bản này (chương trình có các "
     "phiên bản {known}; biểu mẫu hiện hành là phiên bản {current}). Tệp đã được kiểm tra theo phiên bản "
     "{current}. Dùng biểu mẫu phiên bản {current} do {clerk_unit} gửi; nếu biểu mẫu mới hơn chương trình, "
     "cập nhật chương trình rồi chạy lại."),
    (_FORM, "missing_sheet/unit", E,
     "Tệp thiếu sheet “{unit_sheet}” (thông tin chung của đơn vị). Dùng lại biểu mẫu gốc, không xóa hay "
     "đổi tên sheet."),
    (_FORM, "missing_sheet/staff", E,
     "Tệp thiếu sheet “{staff_sheet}” (danh sách cá nhân). Dùng lại biểu mẫu gốc, không xóa hay đổi tên "
     "sheet."),
    # {help}: the field's own guidance (form.py); {assumed}: the hint "assumed_value" or "assumed_empty".
    (_FORM, "missing_field", E,
     "Sheet “{unit_sheet}” thiếu dòng “{label}” (cột A). Thêm lại dòng này và ghi số liệu vào cột B. "
     "{help}"),
    (_FORM, "missing_optional_field", W,
     "Sheet “{sheet_name}” không có dòng “{label}” (cột A), nên chương trình coi số liệu này {assumed}. Nếu "
     "đã đổi tên hoặc xóa dòng, thêm lại dòng với đúng nội dung “{label}” ở cột A và ghi số liệu vào cột "
     "B. {help}"),
    (_FORM, "metadata_missing", W,
     "Tệp không có sheet ẩn “{meta_sheet}” của biểu mẫu (có thể nội dung đã được chép sang tệp khác); mã "
     "đơn vị và kỳ báo cáo được lấy từ sheet “{unit_sheet}”. Các kỳ sau dùng đúng tệp biểu mẫu được gửi."),
    (_FORM, "unit_mismatch", E,
     "mã đơn vị “{found}” khác mã của biểu mẫu đã cấp (“{expected}”). Có thể đơn vị đã dùng biểu mẫu của "
     "đơn vị khác: dùng đúng biểu mẫu gửi cho đơn vị mình, hoặc sửa lại mã thành “{expected}” nếu đúng là "
     "báo cáo của {expected}."),
    (_FORM, "period_mismatch", E,
     "kỳ báo cáo {found} khác kỳ của biểu mẫu đã cấp ({expected}). Dùng biểu mẫu của tháng {found} (không "
     "dùng lại tệp tháng trước), hoặc sửa lại kỳ cho đúng."),
    (_FORM, "unknown_unit", E,
     "mã đơn vị “{code}” không có trong danh sách đơn vị. Ghi một trong các mã: {known}."),
    (_FORM, "period_outside_campaign", E,
     "kỳ báo cáo {period} không thuộc đợt thi đua nào ({spans}). Kiểm tra lại tháng báo cáo."),
    (_FORM, "missing_header", E,
     "Sheet “{sheet_name}” không có dòng tiêu đề với cột “{name_label}” trong {rows} dòng đầu. Dùng lại "
     "biểu mẫu gốc, không xóa dòng tiêu đề."),
    (_FORM, "missing_column", E,
     "Sheet “{sheet_name}” thiếu cột “{label}” ở dòng tiêu đề {header_row}. Thêm lại cột với đúng tiêu đề "
     "này. {help}"),
    (_FORM, "missing_optional_column", W,
     "Sheet “{sheet_name}” không có cột “{label}” ở dòng tiêu đề {header_row}, nên chương trình coi cột "
     "này {assumed} cho mọi người. Nếu đã đổi tên hoặc xóa cột, thêm lại cột với đúng tiêu đề “{label}”. "
     "{help}"),
    (_FORM, "no_staff", E,
     "Sheet “{sheet_name}” chưa có cá nhân nào. Ghi mỗi cán bộ, công chức, viên chức, người lao động một "
     "dòng, từ dòng {first_row}."),
    (_FORM, "total_row_ignored", W,
     "dòng {at_row} (“{name}”) được coi là dòng tổng cộng, không phải một cá nhân, nên không được tính. "
     "Không cần ghi dòng tổng: chương trình tự cộng."),
    (_FORM, "name_without_letters", E,
     "họ và tên “{name}” không có chữ cái nào. Ghi họ và tên đầy đủ, có dấu, của cán bộ (có thể số thứ tự "
     "hoặc số liệu đã được ghi nhầm sang cột “Họ và tên”)."),
    # {born}: empty, or the hint "born" after a space.
    (_FORM, "duplicate_person", E,
     "“{name}”{born} đã có ở dòng {first_row}. Mỗi người chỉ ghi một dòng: xóa dòng trùng, hoặc sửa lại "
     "họ tên/ngày sinh nếu là hai người khác nhau."),
    (_FORM, "tasks_exceed", E,
     "số nhiệm vụ đã hoàn thành ({completed}) lớn hơn số nhiệm vụ được giao ({assigned}). Ghi số đã hoàn "
     "thành không lớn hơn số được giao, hoặc sửa lại số được giao."),
    (_FORM, "prepared_before_period", W,
     "ngày lập {date} trước tháng báo cáo {period}. Kiểm tra lại ngày lập biểu."),
    (_FORM, "self_rating_above_staff", W,
     "tập thể tự xếp loại “{rating}” cao hơn mức mà kết quả cá nhân cho phép (“{allowed}”): xếp loại tập "
     "thể cao nhất cần không ai “{worst}” và từ {best_share} cá nhân “{good}” trở lên; mức thứ hai cần "
     "trên {good_share}. Kiểm tra lại xếp loại tập thể."),
    # -- validate: one cell ----------------------------------------------------------------------
    # {expect}: what to enter in the field, in words (validate._expect: "Ghi ngày dạng dd/mm/yyyy, ...").
    (_CELL, "required", E, "chưa ghi “{label}” (bắt buộc). {expect}"),
    (_CELL, "formula_not_calculated", E,
     "ô có công thức “{formula}” nhưng chưa có kết quả (tệp được lưu bởi chương trình không tính công "
     "thức). Mở tệp bằng Excel, nhấn Ctrl+Alt+F9 rồi lưu lại, hoặc nhập giá trị trực tiếp. {expect}"),
    (_CELL, "formula_error", E,
     "ô có giá trị lỗi {error} (công thức tính sai). Sửa công thức hoặc nhập giá trị trực tiếp. {expect}"),
    (_CELL, "legacy_encoding_converted/text", W,
     "“{text}” được gõ bằng bảng mã {encoding} (font {font}); đã tự chuyển sang Unicode thành "
     "“{converted}”. Kiểm tra lại; lần sau dùng font Unicode (Times New Roman) và đặt bộ gõ ở bảng mã "
     "Unicode."),
    (_CELL, "legacy_encoding_converted/choice", W,
     "“{text}” được gõ bằng bảng mã {encoding}; đã hiểu là “{option}”. Lần sau chọn giá trị trong danh sách "
     "của ô."),
    (_CELL, "legacy_encoding_suspected", E,
     "“{text}” có vẻ được gõ bằng bảng mã {encoding} (có thể là “{converted}”) nhưng ô không dùng font của "
     "bảng mã đó nên chương trình không tự chuyển. Gõ lại bằng font Unicode (Times New Roman) với bộ gõ "
     "đặt bảng mã Unicode."),
    (_CELL, "too_long", E,
     "nội dung dài {length} ký tự, quá giới hạn {limit} ký tự của “{label}”. Rút gọn lại."),
    (_CELL, "invalid_period", E, "“{text}” không phải kỳ báo cáo hợp lệ. {expect}"),
    (_CELL, "invalid_date/unreadable", E, "“{text}” không phải ngày hợp lệ. {expect}"),
    (_CELL, "invalid_date/not_real", E, "“{text}” không phải ngày có thật. {expect}"),
    (_CELL, "invalid_date/out_of_range", E, "ngày {date} nằm ngoài khoảng hợp lệ. {expect}"),
    (_CELL, "invalid_date/recruited_after_period", E,
     "ngày tuyển dụng {date} sau kỳ báo cáo {period}. Kiểm tra lại ngày tuyển dụng (dd/mm/yyyy)."),
    (_CELL, "invalid_date/born_after_period", E,
     "ngày sinh {date} sau kỳ báo cáo {period}. Kiểm tra lại ngày sinh (dd/mm/yyyy)."),
    (_CELL, "date_as_number", W,
     "ghi số {number} thay vì ngày (ô mất định dạng ngày); đã hiểu là ngày {date}. Kiểm tra lại và định "
     "dạng ô kiểu ngày dd/mm/yyyy."),
    (_CELL, "two_digit_year", W,
     "năm ghi hai chữ số “{text}”; đã hiểu là năm {year}. Ghi đủ bốn chữ số năm (dd/mm/yyyy)."),
    (_CELL, "date_order", W,
     "“{text}” ghi tháng trước ngày (kiểu Mỹ); đã hiểu là ngày {date}. Ghi theo dạng ngày/tháng/năm "
     "(dd/mm/yyyy)."),
    (_CELL, "birth_date_unusual", W,
     "ngày sinh {date} cho tuổi {age}, bất thường với cán bộ, công chức. Kiểm tra lại năm sinh."),
    (_CELL, "not_a_number", E, "“{text}” không phải số. {expect}"),
    (_CELL, "not_whole_number", E, "“{text}” không phải số nguyên. {expect}"),
    (_CELL, "out_of_range", E, "{number} nằm ngoài khoảng cho phép. {expect}"),
    (_CELL, "ambiguous_number", W,
     "“{text}” có thể là {dotted} hoặc một số thập phân; đã hiểu là {number}. Chỉ ghi chữ số, không ghi "
     "dấu phân cách."),
    (_CELL, "number_in_words", W, "“{text}” được hiểu là {amount} đồng. Chỉ ghi chữ số, ví dụ {digits}."),
    (_CELL, "allowed_values", E,
     "“{text}” không phải giá trị hợp lệ của “{label}”. Chọn một trong: {labels}."),
    (_CELL, "phone_format", W,
     "“{text}” không giống số điện thoại (10 hoặc 11 chữ số, bắt đầu bằng 0); vẫn ghi nhận như đã ghi. "
     "{expect}"),
    (_CELL, "wrong_type", E, "giá trị “{text}” không đúng kiểu của “{label}”. {expect}"),
    # -- validate: across files ------------------------------------------------------------------
    (_ACROSS, "person_in_two_units", W,
     "Dòng {at_row}: “{name}”{born} cũng có trong báo cáo tháng {period} của {units}. Mỗi người chỉ báo "
     "cáo ở một đơn vị: kiểm tra lại và xóa ở đơn vị không đúng."),
    (_ACROSS, "headcount_change/up", W,
     "Số cá nhân trong báo cáo tháng {period} là {count}, tháng {previous} là {before} (tăng {change}, quá "
     "ngưỡng {limit}). Kiểm tra xem có thiếu hoặc thừa người không."),
    (_ACROSS, "headcount_change/down", W,
     "Số cá nhân trong báo cáo tháng {period} là {count}, tháng {previous} là {before} (giảm {change}, quá "
     "ngưỡng {limit}). Kiểm tra xem có thiếu hoặc thừa người không."),
    # -- resolve: senders and corrections --------------------------------------------------------
    (_RESOLVE, "sender_not_registered", W,
     "Thư được gửi từ địa chỉ {sender}, không phải địa chỉ đã đăng ký của {unit} ({unit_code}): "
     "{registered}. Kiểm tra lại người gửi; nếu địa chỉ này đúng của đơn vị, bổ sung vào units.emails trong "
     "config.toml."),
    (_RESOLVE, "sender_not_registered_not_used", W,
     "Không dùng tệp này thay cho báo cáo {kept}: tệp này gửi từ địa chỉ {sender}, không phải địa chỉ đã "
     "đăng ký của {unit} ({unit_code}), nên không thay thế được báo cáo gửi từ địa chỉ đã đăng ký. Nếu đây "
     "đúng là bản sửa của đơn vị, đề nghị đơn vị gửi lại từ địa chỉ đã đăng ký, hoặc bổ sung địa chỉ này "
     "vào units.emails trong config.toml rồi chạy lại."),
    # -- the memo of earlier runs ----------------------------------------------------------------
    (_MEMO, "refused_after_rule_change/partial", W,
     "Tệp này đã được chấp nhận ở lần chạy trước; theo quy định kiểm tra hiện hành (config.toml hoặc biểu "
     "mẫu đã thay đổi) tệp có lỗi nên chỉ các dòng hợp lệ được dùng (--accept-partial). Xem các lỗi của "
     "tệp; nếu quy định mới là đúng, đề nghị đơn vị sửa và gửi lại, nếu không thì khôi phục quy định cũ "
     "trong config.toml rồi chạy lại."),
    (_MEMO, "refused_after_rule_change/rejected", W,
     "Tệp này đã được chấp nhận ở lần chạy trước; theo quy định kiểm tra hiện hành (config.toml hoặc biểu "
     "mẫu đã thay đổi) tệp có lỗi nên số liệu của tệp không còn được dùng để tổng hợp. Xem các lỗi của "
     "tệp; nếu quy định mới là đúng, đề nghị đơn vị sửa và gửi lại, nếu không thì khôi phục quy định cũ "
     "trong config.toml rồi chạy lại."),
    # -- render: the feedback to the units -------------------------------------------------------
    (_FEEDBACK, "feedback_not_written", W,
     "Không tạo được bản đánh dấu lỗi và thư trả lời cho tệp này ({reason}). Các lỗi, cảnh báo của tệp có "
     "đủ trong báo cáo kiểm tra này: văn thư báo cho đơn vị theo danh sách đó."),
    # -- decide: the council's approval workbook -------------------------------------------------
    # Not records.Finding but decide.Finding (row, message, blocking): an error blocks the decision
    # documents, a warning leaves its row out of them.
    (_APPROVAL, "approval_unreadable", E, "Không đọc được bảng duyệt {name}: {reasons}."),
    (_APPROVAL, "approval_other_period", E,
     "Bảng duyệt {name} là của kỳ {period}, không phải kỳ {current}: không dùng được. Ghi ý kiến Hội đồng "
     "vào tệp {expected_name} của kỳ này."),
    (_APPROVAL, "approval_period_unknown", E,
     "Bảng duyệt {name} không có sheet “{info_sheet}” ghi kỳ báo cáo: không xác định được bảng của kỳ nào. "
     "Dùng tệp do chương trình lập cho kỳ này."),
    (_APPROVAL, "approval_agreed_invalid", W,
     "{subject} ({award}): cột “Hội đồng đồng ý” {what}; chỉ nhận “{yes}” hoặc “{no}”. Chưa đưa vào Quyết "
     "định."),
    (_APPROVAL, "approval_second_award", W,
     "{subject} đã có ở {where} ({award}); một thành tích chỉ khen một hình thức, dòng này không được đưa "
     "vào Quyết định."),
    (_APPROVAL, "approval_not_eligible", W,
     "{subject}: chưa đạt tiêu chuẩn {award} theo bộ tiêu chuẩn ({reasons}). Hội đồng vẫn đồng ý khen "
     "thưởng: đưa vào Quyết định và ghi nhận vào hồ sơ."),
    (_APPROVAL, "approval_subject_invalid", W,
     "{name}: cột “Tập thể / Cá nhân” ghi “{subject}”; chọn “{collective}” hoặc “{individual}”."),
    (_APPROVAL, "approval_award_unknown", W,
     "{name}: hình thức khen thưởng {what} không có trong bộ tiêu chuẩn; dùng: {allowed}."),
    (_APPROVAL, "approval_unit_unknown/collective", W,
     "Tập thể “{name}” không có trong danh sách đơn vị (config.toml); kiểm tra lại tên hoặc ghi mã đơn vị."),
    (_APPROVAL, "approval_unit_unknown/individual", W,
     "{name}: đơn vị {what} không có trong danh sách đơn vị (config.toml); ghi đúng tên hoặc mã đơn vị."),
    (_APPROVAL, "approval_person_ambiguous", W,
     "{name}: đơn vị có {count} người cùng tên; giữ nguyên mã ở cột cuối hoặc ghi thêm để phân biệt."),
    (_APPROVAL, "approval_person_unknown", W,
     "Không tìm thấy “{name}” trong danh sách cá nhân của đơn vị {unit} trong các báo cáo của đợt; kiểm tra "
     "chính tả họ tên và đơn vị."),
    (_APPROVAL, "approval_not_judged", W, "{name}: chưa được xét {award}."),
]  # fmt: skip

# Pieces of messages that a check puts into a template's placeholder, when it applies.
HINTS = {
    # no_workbook_attachment {details}
    "attachments_listed": "Tệp đính kèm trong thư: {names}.",
    "winmail": "Tệp winmail.dat do Outlook tạo khi gửi thư dạng Rich Text: mở thư bằng Outlook để lưu tệp "
    "đính kèm, hoặc đề nghị đơn vị gửi lại thư ở dạng HTML.",
    "forwarded": "Thư có kèm thư khác (chuyển tiếp dạng tệp đính kèm): mở thư đó và lưu tệp biểu mẫu vào "
    "thư mục nhận.",
    "archives": "Tệp nén đính kèm: lưu tệp nén vào thư mục nhận, giải nén các biểu mẫu trong đó rồi chạy "
    "lại.",
    # received_time_not_believed {consequence}
    "not_replacing": "Tệp này không thay thế được báo cáo khác của đơn vị có thời điểm nhận đáng tin cậy.",
    # mail_too_large {sender}
    "unknown_sender": "người gửi không rõ",
    # missing_optional_field, missing_optional_column {assumed}
    "assumed_value": "là “{default}”",
    "assumed_empty": "để trống",
    # duplicate_person, person_in_two_units {born}
    "born": "(sinh {date})",
    # feedback_not_written {reason}
    "program_error": "lỗi chương trình {error_type}: {error}",
}


def _build() -> dict[str, Message]:
    out: dict[str, Message] = {}
    for stage, key, severity, template in _ENTRIES:
        assert key not in out, key
        text = template
        for name, filled in FORM_NAMES.items():
            text = text.replace("{" + name + "}", filled)
        out[key] = Message(key, severity, template, stage, text, _placeholders(text))
    return out


CATALOGUE: dict[str, Message] = _build()
SEVERITIES: dict[str, Severity] = {m.code: m.severity for m in CATALOGUE.values()}


def message(key: str, /, **fields: object) -> str:
    """The Vietnamese text of the message `key` with `fields` filled in (KeyError: not in the catalogue,
    or a placeholder not passed)."""
    return CATALOGUE[key].format(fields)


def hint(name: str, /, **fields: object) -> str:
    """A piece of a message (HINTS) with its fields filled in."""
    return HINTS[name].format_map(fields)


def finding(
    key: str,
    file: str,
    /,
    *,
    sheet: str | None = None,
    cell: str | None = None,
    field: str | None = None,
    value: str | None = None,
    **fields: object,
) -> Finding:
    """The finding `key` on `file`, its message filled in from `fields`."""
    entry = CATALOGUE[key]
    return Finding(entry.severity, entry.code, entry.format(fields), file, sheet, cell, field, value)

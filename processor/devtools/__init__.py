"""Developer tooling, kept off the runtime import path: no stage imports it.

- `samples`: the sample inbox (workbooks and e-mails with the mistakes units make) for `thidua demo`, the
  tests and the benchmarks;
- `word_templates`: builds the Word templates committed in `input_templates/` and
  `processor/data/templates/` (`make templates`); the committed files are what the clerk edits;
- `demo`: `thidua demo`, which the CLI imports only when that command runs.

Shipped in the package so `thidua demo` works from `pip install .`.
"""

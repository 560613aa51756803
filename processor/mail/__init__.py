"""The office mailbox: `thidua fetch` (IMAP, read-only) and `thidua send` (SMTP).

- settings.py: the [mail] settings resolved for a connection (ports, TLS context, the password);
- errors.py: every network, TLS and login failure as one Vietnamese MailError;
- journal.py: what was fetched (UIDVALIDITY, UIDs, Message-IDs, the server's received times), kept
  beside the saved messages; ingest reads the received times from it;
- fetch.py, send.py: the two commands' work, each a function usable on its own.
"""

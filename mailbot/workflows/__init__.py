"""The flows of docs/rules.md, one module each. Workflows decide: they read the parsed mail and the clock,
change the database and return the mails to send. They never touch IMAP or SMTP."""

"""Development tools, not part of the daemon: a throw-away loopback mail server and the local demo.

`devserver` runs Dovecot (IMAP + LMTP) and Postfix (SMTP) on 127.0.0.1 for the tests, the benches and the demo
(`python -m mailbot.dev.devserver start DIR --user addr:pw …`); `demo` is what `make run` starts when no mailbox is
configured (`mailbot demo`). Nothing in the daemon's modules imports this package.
"""

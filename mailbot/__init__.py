"""mailbot: the mail daemon of Club Aide."""

__version__ = "0.1.0"

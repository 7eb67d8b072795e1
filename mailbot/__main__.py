from mailbot.cli import main

# The guard matters: the helper sending process (multiprocessing "spawn") imports this module again.
if __name__ == "__main__":
    raise SystemExit(main())

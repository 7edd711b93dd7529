"""``python -m heihachi``."""

from heihachi.cli import main

if __name__ == "__main__":
    main()

"""``python -m retold`` is the ``retold`` command."""

from retold.cli import main

if __name__ == "__main__":
    main()

"""``python -m importer.sandbox``: the same as ``octolane-import sandbox``."""

from importer.sandbox.cli import sandbox_command

if __name__ == "__main__":
    sandbox_command(prog_name="python -m importer.sandbox")

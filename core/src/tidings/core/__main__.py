from tidings.core.cli import run

run()

"""The command-line interface: a thin layer over the library, one module per command."""
from superopt.cli.app import main
from superopt.cli.bench import bench
from superopt.cli.export import export
from superopt.cli.tasks import tasks

main.add_command(tasks)
main.add_command(bench)
main.add_command(export)

__all__ = ["main"]

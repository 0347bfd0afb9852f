"""The command-line interface: a thin layer over the library, one module per command."""
from superopt.cli.app import main
from superopt.cli.bench import bench
from superopt.cli.examples import examples
from superopt.cli.export import export
from superopt.cli.search import search
from superopt.cli.show import show
from superopt.cli.tasks import tasks
from superopt.cli.train import train
from superopt.cli.verify import verify_command

main.add_command(tasks)
main.add_command(bench)
main.add_command(export)
main.add_command(show)
main.add_command(verify_command)
main.add_command(train)
main.add_command(search)
main.add_command(examples)

__all__ = ["main"]

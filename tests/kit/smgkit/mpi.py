"""How the drivers start smalgo on several ranks of this one machine: mpirun
with --oversubscribe (more ranks than cores is normal on a 2-core box) and
Open MPI's permission to run as root (containers and CI run as root).
"""
import shutil

MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}


def have_mpirun():
    return shutil.which("mpirun") is not None


def mpirun(ranks, cmd, *options):
    """The command line running cmd on `ranks` ranks; options go to mpirun."""
    return ["mpirun", "-np", str(ranks), "--oversubscribe", *options, *map(str, cmd)]

"""cnidoctor: explain, before a pod fails, why CNI networking on a node will break."""

__version__ = "0.1.0"

"""The runtime side: what the container runtime on the node (containerd, CRI-O, k3s/RKE2,
cri-dockerd) reads, where it looks for CNI configs and plugins, and which libcni it carries.

This package never imports ``cnidoctor.config`` or ``cnidoctor.plugins``; the three sides meet
only in ``cnidoctor.crosscheck``.
"""

"""The plugin side: the binaries in the bin dirs, how libcni finds them, and what each says to
``CNI_COMMAND=VERSION`` (the only command cnidoctor ever sends).

Never imports ``cnidoctor.config`` or ``cnidoctor.runtime``; the sides meet in ``cnidoctor.crosscheck``.
"""

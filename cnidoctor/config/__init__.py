"""The config side: the files in the CNI config directory as libcni reads them.

discover -> parse -> validate (schemas, reference-plugin options). Never imports
``cnidoctor.plugins`` or ``cnidoctor.runtime``; the sides meet in ``cnidoctor.crosscheck``.
"""

"""Where the three sides meet: the facts gathered from the configs, the plugin binaries and the
runtime, compared (skew) and turned into a per-step prediction of what the runtime will do.
"""

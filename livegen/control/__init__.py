"""Control: the parameter table and everything it drives (live values, presets, OSC in and out, the TouchOSC layout).

May import: livegen.compose (for the ranges it defines), livegen.abc (how K:
writes a mode), livegen.errors and python-osc. Never session, offline or cli.
"""

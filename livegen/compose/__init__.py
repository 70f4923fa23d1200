"""Composing: drawing characters from the model's logits under ABC constraints, one tune at a time.

May import: livegen.abc, livegen.model, livegen.errors. Never realtime, session,
offline or control: the same composer serves `run` and `generate`.
"""

"""``heihachi process``: every analysis of a track from one decode.

:mod:`~heihachi.process.task` is the task contract, :mod:`~heihachi.process.registry`
finds tasks by name, :mod:`~heihachi.process.pipeline` runs them over files.
"""

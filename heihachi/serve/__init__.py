"""``heihachi serve``: the REST API, its durable job queue and the web explorer.

The rooms:

- :mod:`~heihachi.serve.settings`: every knob of the server in one dataclass.
- :mod:`~heihachi.serve.jobs`: the SQLite job store (queued -> running -> done/failed),
  with a lease per running job so a killed server's jobs run again after a restart.
- :mod:`~heihachi.serve.storage`: the ``--data`` layout, safe names, uploads streamed to
  disk and probed as audio; no path leaves ``--data``.
- :mod:`~heihachi.serve.tasks`: what each endpoint runs (plugin kind, output formats)
  and the validation of client overrides.
- :mod:`~heihachi.serve.worker` + :mod:`~heihachi.serve.execute`: worker processes
  that keep plugins loaded and run queued files through the CLI's ``Runner``.
- :mod:`~heihachi.serve.semantic_jobs`: index add, search and tags in a worker.
- :mod:`~heihachi.serve.supervisor`: one server per ``--data``, worker restarts, leases,
  retention.
- :mod:`~heihachi.serve.app` and ``routes_*``: the FastAPI app; ``submit``: accepting a
  job; ``views``: a job as answered; ``guards``: auth, rate limits, body size limit,
  JSON errors; :mod:`~heihachi.serve.folders`: reading a CLI output folder for the
  explorer; ``run``: ``heihachi serve`` itself; ``static/``: the explorer (no CDN).

FastAPI, uvicorn and python-multipart are the ``serve`` extra; nothing here is
imported when the CLI starts.
"""

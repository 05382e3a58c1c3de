"""Long jobs: ingesting an uploaded feed file, rendering a week's report, run in the background of
the web server with their progress and result recorded in the incident store.

- :mod:`.model`: what a job is (kind, state, progress, typed request and result);
- :mod:`.records`, :mod:`.store`: the ``jobs`` table and the functions over it;
- :mod:`.work`: what each kind of job does;
- :mod:`.runner`: the worker pool of a server process, and its heartbeat;
- :mod:`.uploads`: where uploaded files wait, under a name that is never the one given.
"""

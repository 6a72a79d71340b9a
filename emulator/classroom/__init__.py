"""A class on one machine (`mplslab class up|check|down`): N trainee copies of one lab side by
side, each a lab of its own name (``<lab>-t1`` .. ``<lab>-tN``) that the trainee drives with
the usual commands (`mplslab exec option3-t2 ...`, `mplslab exercise start option3-t2 ...`).

- ``copies``: the copies' names, their lab files (the lab renamed, as `mplslab new` does) and
  the class's record, in the state folder's ``_class/<lab>/``;
- ``sizing``: the memory N copies need, against the running micro-VM or the host;
- ``course``: up (copy after copy through ``emulator.lifecycle``; one that fails takes the
  others down) and down (every copy, broken or not);
- ``grading``: every copy verified, one row per trainee, JSON and JUnit.

It sits beside ``emulator.lifecycle``, between the command line (``emulator/cli/classroom.py``)
and the runtimes.
"""

"""`portico upgrade-check`: does `helm upgrade` drop requests?

load (the generator) -> watch (the release's pods) -> check (install, load,
upgrade, settle) -> verdict (counts, switch, report) -> plot.
"""

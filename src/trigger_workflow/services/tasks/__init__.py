"""Officers' tasks: starting cases, completing tasks, the inbox, claims and timers."""

"""What auditors use: chain verification, replay, a case's history, exports, statutory figures."""

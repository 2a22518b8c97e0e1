"""The ways in: the ``gridshift`` CLI, inputs, outputs. No planning logic here."""

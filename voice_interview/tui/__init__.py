"""The Textual practice UI: the only package that imports textual."""

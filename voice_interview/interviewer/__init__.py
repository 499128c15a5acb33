"""Question banks, rubric scoring, the offline probe planner and the LLM interviewer."""

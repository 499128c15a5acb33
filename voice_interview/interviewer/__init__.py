"""Question banks, rubric scoring, the offline probe planner and the LLM interviewer."""

from voice_interview.interviewer.banks import (
    InterviewFormat,
    ProbeFamily,
    Question,
    QuestionBank,
    load_formats,
    load_llm_prompt,
    load_probe_families,
    load_question_bank,
)
from voice_interview.interviewer.planner import (
    PlannerSession,
    ProbePlanner,
    analyze_answer,
)
from voice_interview.interviewer.rubric import StructureReport, load_rubrics, score_structure
from voice_interview.interviewer.types import Probe

__all__ = [
    "InterviewFormat", "PlannerSession", "Probe", "ProbeFamily", "ProbePlanner", "Question",
    "QuestionBank", "StructureReport", "analyze_answer", "load_formats", "load_llm_prompt",
    "load_probe_families", "load_question_bank", "load_rubrics", "score_structure",
]

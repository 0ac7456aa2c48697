"""The three workloads (A chat, B summarization, C reasoning) and the follow-up question port."""

from loadgen.workloads.base import Runner, WorkloadDriver, turn_label
from loadgen.workloads.chat import ChatWorkload
from loadgen.workloads.followup import FollowupQuestions, Question, QuestionSource
from loadgen.workloads.single import ReasoningWorkload, SummarizationWorkload

__all__ = [
    "ChatWorkload",
    "FollowupQuestions",
    "Question",
    "QuestionSource",
    "ReasoningWorkload",
    "Runner",
    "SummarizationWorkload",
    "WorkloadDriver",
    "turn_label",
]

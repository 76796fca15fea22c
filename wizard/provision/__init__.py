"""Unattended setup from an answer file, and the handover report (Qt-free).

:func:`load_answers` reads and checks an answer file, :func:`provision` sets up the
assistant it describes, :func:`write_report` writes the handover report of any profile.
"""

from wizard.provision.answers import Answers, AnswersError, load_answers
from wizard.provision.errors import ProvisionError
from wizard.provision.report import REPORT_FILE, render_report, write_report
from wizard.provision.run import ProvisionResult, provision

__all__ = ["REPORT_FILE", "Answers", "AnswersError", "ProvisionError", "ProvisionResult", "load_answers",
           "provision", "render_report", "write_report"]

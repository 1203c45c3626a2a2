"""Rasa's process keeps the person's answers out of its log (channels/serve.py)."""
import logging

from rasa.core.nlg.interpolator import interpolate_text
from rasa.utils.log_utils import configure_structlog

from channels.serve import keep_slots_out_of_logs

PAYLOAD = '/inform{"platform": "snapchat"}'  # a report question's button
SLOTS = {"report_demand": "300 quid by tonight or he sends them to my mum"}


def test_a_button_with_json_puts_no_slot_value_in_rasas_log(caplog):
    logger = logging.getLogger("rasa.core.nlg.interpolator")
    configure_structlog(logging.INFO)
    try:
        with caplog.at_level(logging.INFO):
            assert interpolate_text(PAYLOAD, SLOTS) == PAYLOAD
        assert "300 quid" in caplog.text  # what Rasa 3.6 does on its own
        caplog.clear()
        keep_slots_out_of_logs()
        with caplog.at_level(logging.INFO):
            assert interpolate_text(PAYLOAD, SLOTS) == PAYLOAD  # the button still works
        assert "300 quid" not in caplog.text and not caplog.records
    finally:
        logger.setLevel(logging.NOTSET)

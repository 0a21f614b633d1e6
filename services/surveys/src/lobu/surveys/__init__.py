"""The surveys service: questionnaires, invitations, answers by personal link, results."""

//! frontdesk: a policy-enforcing front door for AI phone receptionists.

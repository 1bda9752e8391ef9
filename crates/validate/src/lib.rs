//! Declarative input validation and normalisation for frontdesk

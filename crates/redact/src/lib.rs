//! PII detection and redaction for frontdesk logs and bodies

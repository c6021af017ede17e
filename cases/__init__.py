"""Cases: intake, verification, duplicate detection, journey and safety, referrals, reports."""

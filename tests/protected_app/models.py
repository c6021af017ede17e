"""A fictional record with encrypted fields and a blind index, for testing the protection app."""

from django.db import models

from audit.history import track_history
from protection.blind_indexes import BlindIndexField
from protection.fields import EncryptedDateField, EncryptedField, ProtectedModel


@track_history()
class ProtectedRecord(ProtectedModel):
    code = models.CharField(max_length=20, unique=True)
    real_name = EncryptedField(max_plaintext_length=200)
    service_number = EncryptedField(blank=True, null=True, max_plaintext_length=50)
    service_number_index = BlindIndexField(source="service_number")
    date_of_birth = EncryptedDateField(null=True, blank=True)

    def __str__(self) -> str:
        return self.code

"""The fixed vocabularies of a case: kept in clear because they are statistics, not identity."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    INTAKE = "intake", _("Intake")
    VERIFYING = "verifying", _("Verifying")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_STATUSES = (Status.INTAKE, Status.VERIFYING, Status.VERIFIED)


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    MESSAGING = "messaging", _("Messaging app")
    IN_PERSON = "in_person", _("In person")
    PARTNER = "partner", _("Partner referral")


class Force(models.TextChoices):
    ARMY = "army", _("Army")
    POLICE = "police", _("Police")
    OTHER = "other", _("Other armed group")


class Rank(models.TextChoices):
    PRIVATE = "private", _("Private / constable")
    LANCE_CORPORAL = "lance_corporal", _("Lance corporal")
    CORPORAL = "corporal", _("Corporal")
    SERGEANT = "sergeant", _("Sergeant")
    WARRANT_OFFICER = "warrant_officer", _("Warrant officer")
    SECOND_LIEUTENANT = "second_lieutenant", _("Second lieutenant")
    LIEUTENANT = "lieutenant", _("Lieutenant / police lieutenant")
    CAPTAIN = "captain", _("Captain / police captain")
    MAJOR = "major", _("Major / police major")
    LIEUTENANT_COLONEL = "lieutenant_colonel", _("Lieutenant colonel")
    COLONEL = "colonel", _("Colonel")
    GENERAL = "general", _("Brigadier general or above")
    UNKNOWN = "unknown", _("Unknown")


class RankGroup(models.TextChoices):
    ENLISTED = "enlisted", _("Enlisted")
    NCO = "nco", _("Non-commissioned officer")
    JUNIOR_OFFICER = "junior_officer", _("Junior officer")
    SENIOR_OFFICER = "senior_officer", _("Senior officer")
    UNKNOWN = "unknown", _("Unknown")


RANK_GROUPS = {
    RankGroup.ENLISTED: [Rank.PRIVATE],
    RankGroup.NCO: [Rank.LANCE_CORPORAL, Rank.CORPORAL, Rank.SERGEANT, Rank.WARRANT_OFFICER],
    RankGroup.JUNIOR_OFFICER: [Rank.SECOND_LIEUTENANT, Rank.LIEUTENANT, Rank.CAPTAIN],
    RankGroup.SENIOR_OFFICER: [Rank.MAJOR, Rank.LIEUTENANT_COLONEL, Rank.COLONEL, Rank.GENERAL],
}


class UnitType(models.TextChoices):
    INFANTRY = "infantry", _("Infantry")
    ARTILLERY = "artillery", _("Artillery")
    ARMOUR = "armour", _("Armour")
    ENGINEERS = "engineers", _("Engineers")
    SIGNALS = "signals", _("Signals")
    AIR_FORCE = "air_force", _("Air force")
    NAVY = "navy", _("Navy")
    SUPPORT = "support", _("Logistics and support")
    POLICE_STATION = "police_station", _("Police station")
    POLICE_BATTALION = "police_battalion", _("Police battalion")
    SPECIAL_BRANCH = "special_branch", _("Special branch")
    OTHER = "other", _("Other")


class Region(models.TextChoices):
    AYEYARWADY = "ayeyarwady", _("Ayeyarwady Region")
    BAGO = "bago", _("Bago Region")
    CHIN = "chin", _("Chin State")
    KACHIN = "kachin", _("Kachin State")
    KAYAH = "kayah", _("Kayah (Karenni) State")
    KAYIN = "kayin", _("Kayin (Karen) State")
    MAGWAY = "magway", _("Magway Region")
    MANDALAY = "mandalay", _("Mandalay Region")
    MON = "mon", _("Mon State")
    NAYPYIDAW = "naypyidaw", _("Naypyidaw Union Territory")
    RAKHINE = "rakhine", _("Rakhine State")
    SAGAING = "sagaing", _("Sagaing Region")
    SHAN = "shan", _("Shan State")
    TANINTHARYI = "tanintharyi", _("Tanintharyi Region")
    YANGON = "yangon", _("Yangon Region")
    UNKNOWN = "unknown", _("Unknown")


class Urgency(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    URGENT = "urgent", _("Urgent")
    IMMEDIATE = "immediate", _("Immediate")


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class JourneyStage(models.TextChoices):
    CONTACTED = "contacted", _("Contacted")
    IN_TRANSIT = "in_transit", _("In transit")
    ARRIVED = "arrived", _("Arrived at a safe location")
    RELOCATED = "relocated", _("Relocated")
    RESETTLED = "resettled", _("Resettled")
    LOST_CONTACT = "lost_contact", _("Lost contact")


class Relation(models.TextChoices):
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    SIBLING = "sibling", _("Sibling")
    OTHER = "other", _("Other relative")


class ItemCategory(models.TextChoices):
    WEAPON = "weapon", _("Weapon")
    AMMUNITION = "ammunition", _("Ammunition")
    VEHICLE = "vehicle", _("Vehicle")
    EQUIPMENT = "equipment", _("Other equipment")


class ItemType(models.TextChoices):
    PISTOL = "pistol", _("Pistol")
    RIFLE = "rifle", _("Rifle")
    MACHINE_GUN = "machine_gun", _("Machine gun")
    GRENADE_LAUNCHER = "grenade_launcher", _("Grenade launcher")
    ROCKET_LAUNCHER = "rocket_launcher", _("Rocket launcher")
    MORTAR = "mortar", _("Mortar")
    ANTI_AIRCRAFT = "anti_aircraft", _("Anti-aircraft weapon")
    GRENADE = "grenade", _("Grenade")
    ROUNDS = "rounds", _("Rounds of ammunition")
    MILITARY_VEHICLE = "military_vehicle", _("Military vehicle")
    MOTORCYCLE = "motorcycle", _("Motorcycle")
    RADIO = "radio", _("Radio")
    DRONE = "drone", _("Drone")
    OTHER = "other", _("Other")


ITEM_CATEGORY_OF_TYPE = {
    ItemType.PISTOL: ItemCategory.WEAPON,
    ItemType.RIFLE: ItemCategory.WEAPON,
    ItemType.MACHINE_GUN: ItemCategory.WEAPON,
    ItemType.GRENADE_LAUNCHER: ItemCategory.WEAPON,
    ItemType.ROCKET_LAUNCHER: ItemCategory.WEAPON,
    ItemType.MORTAR: ItemCategory.WEAPON,
    ItemType.ANTI_AIRCRAFT: ItemCategory.WEAPON,
    ItemType.GRENADE: ItemCategory.AMMUNITION,
    ItemType.ROUNDS: ItemCategory.AMMUNITION,
    ItemType.MILITARY_VEHICLE: ItemCategory.VEHICLE,
    ItemType.MOTORCYCLE: ItemCategory.VEHICLE,
    ItemType.RADIO: ItemCategory.EQUIPMENT,
    ItemType.DRONE: ItemCategory.EQUIPMENT,
    ItemType.OTHER: ItemCategory.EQUIPMENT,
}


class CheckItem(models.TextChoices):
    IDENTITY_DOCUMENT = "identity_document", _("Identity document seen")
    UNIT_RANK_CONFIRMED = "unit_rank_confirmed", _("Unit and rank confirmed by a reference")
    INTERVIEW = "interview", _("Interview held")
    BACKGROUND_CHECK = "background_check", _("Background check")


class CheckResult(models.TextChoices):
    PENDING = "pending", _("Not done yet")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")


class EvidenceKind(models.TextChoices):
    IDENTITY_DOCUMENT = "identity_document", _("Identity document")
    SERVICE_RECORD = "service_record", _("Service record")
    PHOTO = "photo", _("Photo")
    OTHER = "other", _("Other")


class PartnerType(models.TextChoices):
    RESISTANCE = "resistance", _("Armed resistance group")
    MINISTRY = "ministry", _("Ministry")
    MEDICAL = "medical", _("Medical")
    LEGAL = "legal", _("Legal")
    OTHER = "other", _("Other")


class ReferralStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    COMPLETED = "completed", _("Completed")


class JourneyEventKind(models.TextChoices):
    STAGE = "stage", _("Stage changed")
    EMERGENCY_ON = "emergency_on", _("Emergency flag raised")
    EMERGENCY_OFF = "emergency_off", _("Emergency flag cleared")
    PLAN_DESTROYED = "plan_destroyed", _("Journey plan destroyed after its retention period")

"""The canonical events frame: column names, event types and data-problem flags.

Every module speaks of columns through these constants, so a rename happens in one place.
"""

from __future__ import annotations

# --- columns of the canonical events frame (one row per event) -------------------------------
EVENT_ID = "event_id"
TYPE = "type"
CONTACT_ID = "contact_id"
ORGANIZATION_ID = "organization_id"
CREATED_AT = "created_at"  # tz-aware UTC
CREATED_AT_LOCAL = "created_at_local"  # naive local wall-clock of the location
TIMEZONE = "timezone"
LOCATION_ID = "location_id"
LOCATION_NAME = "location_name"
HOTSPOT_ID = "hotspot_id"
GEOFENCE_ID = "geofence_id"
GEOFENCE_NAME = "geofence_name"
GEOFENCE_EXT_ID = "geofence_ext_id"
GEOFENCE_SHAPE = "geofence_shape"
GEOFENCE_LON = "geofence_lon"
GEOFENCE_LAT = "geofence_lat"
GEOFENCE_RADIUS_M = "geofence_radius_m"
VISIT_START = "visit_start"  # tz-aware UTC
VISIT_START_LOCAL = "visit_start_local"  # naive local wall-clock
VISIT_DURATION_MIN = "visit_duration_min"  # float, minutes
APP_OS = "app_os"
SIGNUP_SOURCE = "signup_source"
CAMPAIGN_ID = "campaign_id"
CAMPAIGN_NAME = "campaign_name"
COMMUNICATION_ID = "communication_id"
CHANNEL = "channel"
EMAIL = "email"
PHONE = "phone"
PHONE_PREFIX = "phone_prefix"
SURVEY_ANSWERS = "survey_answers"  # answers joined as text, e.g. "answer_1: yes; answer_2: 4"
PROMO_TYPE = "promo_type"
DATA_PROBLEMS = "data_problems"  # uint16 bit mask of PROBLEM_* flags (0 = clean row)

EVENT_COLUMNS: tuple[str, ...] = (
    EVENT_ID,
    TYPE,
    CONTACT_ID,
    ORGANIZATION_ID,
    CREATED_AT,
    CREATED_AT_LOCAL,
    TIMEZONE,
    LOCATION_ID,
    LOCATION_NAME,
    HOTSPOT_ID,
    GEOFENCE_ID,
    GEOFENCE_NAME,
    GEOFENCE_EXT_ID,
    GEOFENCE_SHAPE,
    GEOFENCE_LON,
    GEOFENCE_LAT,
    GEOFENCE_RADIUS_M,
    VISIT_START,
    VISIT_START_LOCAL,
    VISIT_DURATION_MIN,
    APP_OS,
    SIGNUP_SOURCE,
    CAMPAIGN_ID,
    CAMPAIGN_NAME,
    COMMUNICATION_ID,
    CHANNEL,
    EMAIL,
    PHONE,
    PHONE_PREFIX,
    SURVEY_ANSWERS,
    PROMO_TYPE,
    DATA_PROBLEMS,
)

UTC_TIME_COLUMNS = (CREATED_AT, VISIT_START)
LOCAL_TIME_COLUMNS = (CREATED_AT_LOCAL, VISIT_START_LOCAL)
FLOAT_COLUMNS = (GEOFENCE_LON, GEOFENCE_LAT, GEOFENCE_RADIUS_M, VISIT_DURATION_MIN)
# Personal data: masked on screen and in exports unless the user reveals it.
PERSONAL_COLUMNS = (EMAIL, PHONE)

# --- event types -------------------------------------------------------------------------------
SIGNUP = "signup"
VISIT = "visit"
LOGIN = "login"
ARRIVING = "arriving"
GEO_ARRIVING = "geo_arriving"
GEO_VISIT = "geo_visit"
PROMO = "promo"
SURVEY = "survey"
SEND_EMAIL = "send_email"
OPEN_EMAIL = "open_email"
CLICK_EMAIL = "click_email"
SEND_SMS = "send_sms"
CLICK_SMS = "click_sms"

# Types the API's `events` filter accepts (the vendor's list).
FILTERABLE_TYPES: tuple[str, ...] = (
    VISIT,
    SIGNUP,
    LOGIN,
    SEND_EMAIL,
    OPEN_EMAIL,
    CLICK_EMAIL,
    SEND_SMS,
    CLICK_SMS,
    SURVEY,
    PROMO,
)
# Every type seen in responses; others may appear and are kept as they are.
KNOWN_TYPES: tuple[str, ...] = FILTERABLE_TYPES + (ARRIVING, GEO_ARRIVING, GEO_VISIT)
VISIT_TYPES = (VISIT, GEO_VISIT)
GEOFENCE_TYPES = (GEO_ARRIVING, GEO_VISIT)

# --- data problems (bits of DATA_PROBLEMS) ------------------------------------------------------
PROBLEM_MISSING_ID = 1 << 0  # no event id
PROBLEM_UNKNOWN_TYPE = 1 << 1  # type missing or not in KNOWN_TYPES
PROBLEM_BAD_TIMESTAMP = 1 << 2  # createdAt missing or unparseable
PROBLEM_BAD_LOCAL_TIME = 1 << 3  # createdAtLocal missing or unparseable
PROBLEM_LOCAL_TIME_MISMATCH = 1 << 4  # createdAtLocal != createdAt in the event's timezone
PROBLEM_UNKNOWN_TIMEZONE = 1 << 5  # timezone missing or not an IANA name
PROBLEM_BAD_DURATION = 1 << 6  # visit duration missing, non-numeric or negative on a visit
PROBLEM_MISSING_CONTACT = 1 << 7  # no customerId
PROBLEM_MALFORMED = 1 << 8  # the event is not an object, or a part has the wrong shape

PROBLEM_LABELS: dict[int, str] = {
    PROBLEM_MISSING_ID: "missing event id",
    PROBLEM_UNKNOWN_TYPE: "unknown or missing event type",
    PROBLEM_BAD_TIMESTAMP: "missing or unreadable UTC time (createdAt)",
    PROBLEM_BAD_LOCAL_TIME: "missing or unreadable local time (createdAtLocal)",
    PROBLEM_LOCAL_TIME_MISMATCH: "local time disagrees with UTC time and time zone",
    PROBLEM_UNKNOWN_TIMEZONE: "missing or unknown time zone",
    PROBLEM_BAD_DURATION: "visit duration missing, not a number or negative",
    PROBLEM_MISSING_CONTACT: "missing contact id",
    PROBLEM_MALFORMED: "event or one of its parts has the wrong shape",
}

# --- locations frame ----------------------------------------------------------------------------
LOCATION_COLUMNS: tuple[str, ...] = (
    "id",
    "name",
    "lat",
    "lng",
    "timezone",
    "address",
    "city",
    "state",
    "zip",
    "country",
    "external_id",
    "tags",
)

/** Where the reporter's pod finds its settings and credentials (the CronJob mounts them there). */
export const SETTINGS_FILE = "/etc/reporter/settings.json";
export const CREDENTIALS_DIR = "/etc/reporter-credentials";

/** Name of the report's CronJob on main (its Jobs are `<name>-<time>`); its alert keys on it. */
export const REPORT_CRONJOB = "weekly-report";

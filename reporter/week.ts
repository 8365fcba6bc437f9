import type { IsoWeek, Window } from "./types";

/** One day and one week, in milliseconds. */
export const DAY_MS = 86_400_000;
export const WEEK_MS = 7 * DAY_MS;

/**
 * The ISO 8601 week of an instant (in UTC): weeks start on Monday, and week 1 is the week with
 * the year's first Thursday, so the week's year can differ from the date's near New Year.
 */
export function isoWeek(at: Date): IsoWeek {
    const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
    // The Thursday of this week decides the week's year.
    const weekday = day.getUTCDay() === 0 ? 7 : day.getUTCDay();
    day.setUTCDate(day.getUTCDate() + 4 - weekday);
    const year = day.getUTCFullYear();
    const week = Math.ceil(((day.getTime() - Date.UTC(year, 0, 1)) / DAY_MS + 1) / 7);
    return { year, week };
}

/** `2026-W07`. */
export function weekLabel(week: IsoWeek): string {
    return `${week.year}-W${String(week.week).padStart(2, "0")}`;
}

export interface Period {
    week: IsoWeek;
    window: Window;
    previousWindow: Window;
    /** End of the window and of the previous one, in seconds since the epoch (query times). */
    end: number;
    previousEnd: number;
}

/**
 * The 7 days before `end`, and the 7 before those. The report is named after the ISO week of
 * the window's midpoint: run on Monday morning, that is the week that just ended.
 */
export function periodEnding(end: Date): Period {
    const endMs = Math.floor(end.getTime() / 1000) * 1000;
    const iso = (ms: number) => new Date(ms).toISOString();
    return {
        week: isoWeek(new Date(endMs - WEEK_MS / 2)),
        window: { start: iso(endMs - WEEK_MS), end: iso(endMs) },
        previousWindow: { start: iso(endMs - 2 * WEEK_MS), end: iso(endMs - WEEK_MS) },
        end: endMs / 1000,
        previousEnd: (endMs - WEEK_MS) / 1000,
    };
}

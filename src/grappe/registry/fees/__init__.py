"""Membership fees: schedules, calls, payments, waivers, the dunning list and key figures."""

"""memberships"""

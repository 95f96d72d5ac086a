"""SQLAlchemy models of the catalogue, split by subject."""

from .base import Base
from .catalogue import ArchivalCodeCounter, ArchiveItem, Category, Fonds
from .changes import ChangeRequest, ItemChange
from .customer import Customer
from .disposal import DeletionRequest, DestructionCase, DestructionRecord, PendingPurge
from .files import Page, PeriodicRun, StoredFile
from .grants import ViewingGrant
from .lending import Loan, LoanItem
from .location import Box, BoxMove, Rack, Room, Section, Shelf
from .preservation import BackupHolding, BackupRecord, FourPropertyCheck
from .twoset import CheckFinding, CrossCheck, ItemMove, Rescan
from .users import AuditEntry, AuditHead, SignInFailures, User
from .workstations import Workstation

__all__ = [
    "ArchivalCodeCounter",
    "ArchiveItem",
    "AuditEntry",
    "AuditHead",
    "BackupHolding",
    "BackupRecord",
    "Base",
    "Box",
    "BoxMove",
    "Category",
    "ChangeRequest",
    "CheckFinding",
    "CrossCheck",
    "Customer",
    "DeletionRequest",
    "DestructionCase",
    "DestructionRecord",
    "Fonds",
    "FourPropertyCheck",
    "ItemChange",
    "ItemMove",
    "Loan",
    "LoanItem",
    "Page",
    "PendingPurge",
    "PeriodicRun",
    "Rack",
    "Rescan",
    "Room",
    "Section",
    "Shelf",
    "SignInFailures",
    "StoredFile",
    "User",
    "ViewingGrant",
    "Workstation",
]

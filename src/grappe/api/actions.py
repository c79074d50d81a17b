"""Collective actions endpoints: events and their calendar, shared equipment, positions, group purchases."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from grappe.api.deps import ERRORS, Id, Limit, Offset, Work, Year, cluster_page, run
from grappe.cooperation.actions import service
from grappe.cooperation.actions.schemas import (
    AttendanceIn,
    BookingIn,
    BookingOut,
    BookingPage,
    EquipmentIn,
    EquipmentOut,
    EquipmentPage,
    EquipmentUsage,
    EventIn,
    EventOut,
    EventPage,
    Moment,
    NeedIn,
    OfferIn,
    OfferOut,
    OfferPage,
    PositionIn,
    PositionOut,
    PositionPage,
    PurchaseDeal,
    PurchaseIn,
    PurchaseOut,
    PurchasePage,
    RegistrationIn,
    RegistrationOut,
    RegistrationPage,
    SaleIn,
    SaleOut,
    SalePage,
    ServicesRevenue,
)

router = APIRouter()

TAGS: list[str | Any] = ["actions collectives"]
Start = Annotated[Moment, Query(description="Début de la période (heure de Paris si sans fuseau).")]
End = Annotated[Moment, Query(description="Fin de la période, exclue.")]


@router.get("/clusters/{cluster_id}/events", response_model=EventPage, tags=TAGS, responses=ERRORS)
def list_events(*, work: Work, cluster_id: Id, limit: Limit = 100, offset: Offset = 0) -> EventPage:
    """Événements d'une structure (un adhérent : les événements publics)."""
    return cluster_page(work, service.list_events, cluster_id, limit, offset)


@router.post(
    "/clusters/{cluster_id}/events", response_model=EventOut, status_code=201, tags=TAGS, responses=ERRORS
)
def create_event(*, work: Work, cluster_id: Id, body: EventIn) -> EventOut:
    """Créer un événement (petit déjeuner, formation, salon, mission, visite, conférence)."""
    return run(work, service.create_event, cluster_id, body)


@router.get("/events/{event_id}", response_model=EventOut, tags=TAGS, responses=ERRORS)
def get_event(*, work: Work, event_id: Id) -> EventOut:
    """Un événement et ses places prises."""
    return run(work, service.get_event, event_id)


@router.get(
    "/events/{event_id}/calendar.ics",
    response_class=Response,
    tags=TAGS,
    responses={**ERRORS, 200: {"content": {"text/calendar": {}}, "description": "Fichier iCalendar"}},
)
def event_calendar(*, work: Work, event_id: Id) -> Response:
    """L'événement au format iCalendar (ICS), pour l'agenda des participants."""
    content = run(work, service.event_calendar, event_id)
    return Response(
        content,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="evenement-{event_id}.ics"'},
    )


@router.get("/events/{event_id}/registrations", response_model=RegistrationPage, tags=TAGS, responses=ERRORS)
def list_registrations(
    *, work: Work, event_id: Id, limit: Limit = 100, offset: Offset = 0
) -> RegistrationPage:
    """Inscriptions à un événement (un adhérent : la sienne)."""
    return run(work, service.list_registrations, event_id, limit=limit, offset=offset)


@router.post(
    "/events/{event_id}/registrations",
    response_model=RegistrationOut,
    status_code=201,
    tags=TAGS,
    responses=ERRORS,
)
def register(*, work: Work, event_id: Id, body: RegistrationIn) -> RegistrationOut:
    """S'inscrire (un adhérent, pour son organisation) ou inscrire une organisation (gestionnaire)."""
    return run(work, service.register, event_id, body)


@router.put(
    "/events/{event_id}/registrations/{organisation_id}/attendance",
    response_model=RegistrationOut,
    tags=TAGS,
    responses=ERRORS,
)
def record_attendance(
    *, work: Work, event_id: Id, organisation_id: Id, body: AttendanceIn
) -> RegistrationOut:
    """Noter la présence (ou l'absence) d'une organisation inscrite."""
    return run(work, service.record_attendance, event_id, organisation_id, body)


@router.get("/clusters/{cluster_id}/equipment", response_model=EquipmentPage, tags=TAGS, responses=ERRORS)
def list_equipment(*, work: Work, cluster_id: Id, limit: Limit = 100, offset: Offset = 0) -> EquipmentPage:
    """Équipements mutualisés d'une structure."""
    return cluster_page(work, service.list_equipment, cluster_id, limit, offset)


@router.post(
    "/clusters/{cluster_id}/equipment",
    response_model=EquipmentOut,
    status_code=201,
    tags=TAGS,
    responses=ERRORS,
)
def create_equipment(*, work: Work, cluster_id: Id, body: EquipmentIn) -> EquipmentOut:
    """Ajouter un équipement mutualisé (salle blanche, banc d'essai), facturé à l'heure."""
    return run(work, service.create_equipment, cluster_id, body)


@router.get("/equipment/{equipment_id}/bookings", response_model=BookingPage, tags=TAGS, responses=ERRORS)
def list_bookings(
    *, work: Work, equipment_id: Id, start: Start, end: End, limit: Limit = 100, offset: Offset = 0
) -> BookingPage:
    """Réservations d'un équipement sur une période (un adhérent : les siennes)."""
    return run(work, service.list_bookings, equipment_id, start, end, limit=limit, offset=offset)


@router.post(
    "/equipment/{equipment_id}/bookings",
    response_model=BookingOut,
    status_code=201,
    tags=TAGS,
    responses=ERRORS,
)
def book(*, work: Work, equipment_id: Id, body: BookingIn) -> BookingOut:
    """Réserver un équipement ; refusé s'il chevauche une autre réservation (nommée)."""
    return run(work, service.book, equipment_id, body)


@router.get("/equipment/{equipment_id}/usage", response_model=EquipmentUsage, tags=TAGS, responses=ERRORS)
def usage(*, work: Work, equipment_id: Id, start: Start, end: End) -> EquipmentUsage:
    """Usage et facturation d'un équipement par adhérent sur une période (un adhérent : la sienne)."""
    return run(work, service.usage, equipment_id, start, end)


@router.get("/clusters/{cluster_id}/positions", response_model=PositionPage, tags=TAGS, responses=ERRORS)
def list_positions(*, work: Work, cluster_id: Id, limit: Limit = 100, offset: Offset = 0) -> PositionPage:
    """Postes partagés (recrutements communs) d'une structure (un adhérent : ceux qu'il partage)."""
    return cluster_page(work, service.list_positions, cluster_id, limit, offset)


@router.post(
    "/clusters/{cluster_id}/positions",
    response_model=PositionOut,
    status_code=201,
    tags=TAGS,
    responses=ERRORS,
)
def create_position(*, work: Work, cluster_id: Id, body: PositionIn) -> PositionOut:
    """Créer un poste partagé entre adhérents ; les parts de temps font 100 %."""
    return run(work, service.create_position, cluster_id, body)


@router.get("/clusters/{cluster_id}/purchases", response_model=PurchasePage, tags=TAGS, responses=ERRORS)
def list_purchases(*, work: Work, cluster_id: Id, limit: Limit = 100, offset: Offset = 0) -> PurchasePage:
    """Achats groupés d'une structure, volume et économies (un adhérent : ses besoins)."""
    return cluster_page(work, service.list_purchases, cluster_id, limit, offset)


@router.post(
    "/clusters/{cluster_id}/purchases",
    response_model=PurchaseOut,
    status_code=201,
    tags=TAGS,
    responses=ERRORS,
)
def create_purchase(*, work: Work, cluster_id: Id, body: PurchaseIn) -> PurchaseOut:
    """Ouvrir un achat groupé : les adhérents expriment leurs besoins jusqu'à la clôture."""
    return run(work, service.create_purchase, cluster_id, body)


@router.post("/purchases/{purchase_id}/needs", response_model=PurchaseOut, tags=TAGS, responses=ERRORS)
def state_need(*, work: Work, purchase_id: Id, body: NeedIn) -> PurchaseOut:
    """Exprimer (ou modifier) le besoin d'un adhérent."""
    return run(work, service.state_need, purchase_id, body)


@router.put("/purchases/{purchase_id}/deal", response_model=PurchaseOut, tags=TAGS, responses=ERRORS)
def conclude_purchase(*, work: Work, purchase_id: Id, body: PurchaseDeal) -> PurchaseOut:
    """Conclure : fournisseur retenu et prix unitaire négocié (les économies en découlent)."""
    return run(work, service.conclude_purchase, purchase_id, body)


@router.get("/clusters/{cluster_id}/services", response_model=OfferPage, tags=TAGS, responses=ERRORS)
def list_offers(*, work: Work, cluster_id: Id, limit: Limit = 100, offset: Offset = 0) -> OfferPage:
    """Services vendus aux adhérents (un adhérent : ceux en vente), ventes et chiffre d'affaires."""
    return cluster_page(work, service.list_offers, cluster_id, limit, offset)


@router.post(
    "/clusters/{cluster_id}/services", response_model=OfferOut, status_code=201, tags=TAGS, responses=ERRORS
)
def create_offer(*, work: Work, cluster_id: Id, body: OfferIn) -> OfferOut:
    """Proposer un service aux adhérents (diagnostic, journée de formation, veille), à prix unitaire HT."""
    return run(work, service.create_offer, cluster_id, body)


@router.post("/services/{offer_id}/withdraw", response_model=OfferOut, tags=TAGS, responses=ERRORS)
def withdraw_offer(*, work: Work, offer_id: Id) -> OfferOut:
    """Retirer un service de la vente (ses ventes passées restent)."""
    return run(work, service.withdraw_offer, offer_id)


@router.post(
    "/services/{offer_id}/sales", response_model=SaleOut, status_code=201, tags=TAGS, responses=ERRORS
)
def record_sale(*, work: Work, offer_id: Id, body: SaleIn) -> SaleOut:
    """Enregistrer une vente à un adhérent ; la ligne « prestations » du financement de l'année suit."""
    return run(work, service.record_sale, offer_id, body)


@router.delete("/sales/{sale_id}", status_code=204, tags=TAGS, responses=ERRORS)
def cancel_sale(*, work: Work, sale_id: Id) -> Response:
    """Annuler une vente enregistrée par erreur ; la ligne de financement de l'année suit."""
    run(work, service.cancel_sale, sale_id)
    return Response(status_code=204)


@router.get("/clusters/{cluster_id}/sales", response_model=SalePage, tags=TAGS, responses=ERRORS)
def list_sales(
    *, work: Work, cluster_id: Id, year: Year | None = None, limit: Limit = 100, offset: Offset = 0
) -> SalePage:
    """Ventes de services d'une structure, les plus récentes d'abord (un adhérent : ses achats)."""
    return cluster_page(work, service.list_sales, cluster_id, limit, offset, year=year)


@router.get(
    "/clusters/{cluster_id}/services/revenue", response_model=ServicesRevenue, tags=TAGS, responses=ERRORS
)
def services_revenue(*, work: Work, cluster_id: Id) -> ServicesRevenue:
    """Chiffre d'affaires annuel des services vendus aux adhérents, par offre (gestionnaires, financeurs)."""
    return run(work, service.services_revenue, cluster_id)

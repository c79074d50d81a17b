"""`grappe cooperation` collective actions: events, shared equipment, positions, group purchases."""

from __future__ import annotations

import datetime as dt
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from grappe.cli import _operational as operational
from grappe.cli._analysis import choice
from grappe.cli._console import console
from grappe.cli.cooperation._base import (
    ClusterArgument,
    Limit,
    _amount,
    _date,
    app,
    in_cluster,
    print_listing,
)
from grappe.errors import InputError
from grappe.kit.dates import option_date

if TYPE_CHECKING:
    from grappe.cooperation.actions.schemas import PurchaseOut, ShareOut


# --- collective actions: events and shared equipment -------------------------------------------

EVENT_KINDS = ("breakfast", "training", "trade_show", "business_mission", "company_visit", "conference")
MOMENT_HELP = "AAAA-MM-JJ HH:MM, heure de Paris"
EventArgument = Annotated[int, typer.Argument(metavar="ÉVÉNEMENT", help="N° de l'événement (ex. : 3).")]
EquipmentArgument = Annotated[int, typer.Argument(metavar="ÉQUIPEMENT", help="N° de l'équipement (ex. : 2).")]
OrganisationOption = Annotated[
    int | None,
    typer.Option("--organisation", help="N° de l'organisation (gestionnaire ; un adhérent : la sienne)."),
]


def _on(moment: dt.datetime) -> str:
    from grappe.cooperation.actions.service import shown

    return shown(moment)


@app.command(
    "event-create",
    epilog='Exemple : grappe cooperation event-create MECA --kind breakfast --title "Usinage 5 axes" '
    '--from "2026-12-10 08:30" --to "2026-12-10 10:30" --capacity 30 --price 15',
)
def event_create(
    cluster: ClusterArgument,
    kind: Annotated[str, typer.Option("--kind", help=f"Nature : {', '.join(EVENT_KINDS)}.")],
    title: Annotated[str, typer.Option("--title", help="Intitulé de l'événement.")],
    start: Annotated[str, typer.Option("--from", help=f"Début ({MOMENT_HELP}).")],
    end: Annotated[str, typer.Option("--to", help=f"Fin ({MOMENT_HELP}).")],
    place: Annotated[str | None, typer.Option("--place", help="Lieu.")] = None,
    capacity: Annotated[
        int | None, typer.Option("--capacity", help="Places au plus (défaut : sans limite).")
    ] = None,
    price: Annotated[str, typer.Option("--price", help="Prix par place en euros (ex. : 15).")] = "0",
    shared_stand: Annotated[bool, typer.Option("--shared-stand", help="Salon avec stand partagé.")] = False,
    private: Annotated[
        bool, typer.Option("--private", help="Réservé aux gestionnaires (les adhérents ne le voient pas).")
    ] = False,
    description: Annotated[str | None, typer.Option("--description", help="Présentation.")] = None,
) -> None:
    """Créer un événement : petit déjeuner, formation, salon, mission d'affaires, visite, conférence."""
    choice("--kind", kind, EVENT_KINDS)
    from grappe.cooperation.actions import service
    from grappe.cooperation.actions.schemas import EventIn

    data = operational.build(
        EventIn,
        kind=kind,
        title=title,
        starts_at=start,
        ends_at=end,
        place=place,
        capacity=capacity,
        price_eur=_amount("--price", price),
        shared_stand=shared_stand,
        public=not private,
        description=description,
    )
    with in_cluster(cluster) as (session, actor, cluster_id):
        event = service.create_event(session, actor, cluster_id, data)
    console.print(f"Événement {event.id} : {event.title}, le {_on(event.starts_at)}")


@app.command("events", epilog="Exemple : grappe cooperation events MECA")
def events(cluster: ClusterArgument, limit: Limit = 100) -> None:
    """Événements d'une structure (un adhérent : les événements publics)."""
    from grappe.cooperation.actions import service

    print_listing(
        cluster,
        partial(service.list_events, limit=limit),
        "Événements",
        ["n°", "nature", "intitulé", "début", "lieu", "places prises", "capacité", "prix (€)"],
        lambda e: [
            e.id,
            e.kind,
            e.title,
            _on(e.starts_at),
            e.place,
            e.seats_taken,
            e.capacity or "sans limite",
            e.price_eur,
        ],
    )


@app.command(
    "event-register", epilog="Exemple : grappe cooperation --as u@firme.fr event-register 3 --seats 2"
)
def event_register(
    event_id: EventArgument,
    organisation: OrganisationOption = None,
    seats: Annotated[int, typer.Option("--seats", help="Nombre de places (défaut : 1).")] = 1,
) -> None:
    """S'inscrire à un événement (refusé au-delà de la capacité, avec les places restantes)."""
    from grappe.cooperation.actions import service
    from grappe.cooperation.actions.schemas import RegistrationIn

    data = operational.build(RegistrationIn, organisation_id=organisation, seats=seats)
    with operational.unit() as (session, actor):
        registration = service.register(session, actor, event_id, data)
    console.print(
        f"Inscription {registration.id} : {registration.organisation_name}, {registration.seats} place(s), "
        f"{registration.amount_eur} €"
    )


@app.command("registrations", epilog="Exemple : grappe cooperation registrations 3")
def registrations(event_id: EventArgument, limit: Limit = 100) -> None:
    """Inscriptions à un événement et présence (un adhérent : la sienne)."""
    from grappe.cooperation.actions import service

    with operational.unit(write=False) as (session, actor):
        page = service.list_registrations(session, actor, event_id, limit=limit)
    came = {None: "", True: "présente", False: "absente"}
    operational.table(
        f"Inscriptions ({page.total})",
        ["n° organisation", "organisation", "places", "montant (€)", "présence"],
        [
            [r.organisation_id, r.organisation_name, r.seats, r.amount_eur, came[r.attended]]
            for r in page.items
        ],
    )


@app.command("attendance", epilog="Exemple : grappe cooperation attendance 3 12 --absent")
def attendance(
    event_id: EventArgument,
    organisation: Annotated[
        int, typer.Argument(metavar="ORGANISATION", help="N° de l'organisation inscrite.")
    ],
    absent: Annotated[bool, typer.Option("--absent", help="Noter l'absence au lieu de la présence.")] = False,
) -> None:
    """Noter la présence d'une organisation inscrite, une fois l'événement commencé."""
    from grappe.cooperation.actions import service
    from grappe.cooperation.actions.schemas import AttendanceIn

    with operational.unit() as (session, actor):
        registration = service.record_attendance(
            session, actor, event_id, organisation, AttendanceIn(attended=not absent)
        )
    console.print(f"{registration.organisation_name} : {'présente' if registration.attended else 'absente'}")


@app.command("event-ics", epilog="Exemple : grappe cooperation event-ics 3 --out evenement.ics")
def event_ics(
    event_id: EventArgument,
    out: Annotated[Path, typer.Option("--out", help="Fichier iCalendar à écrire (.ics).")],
) -> None:
    """Exporter un événement au format iCalendar, pour les agendas."""
    from grappe.cooperation.actions import service

    if out.suffix.lower() != ".ics":
        raise InputError(f"--out {out} : extension attendue .ics")
    with operational.unit(write=False) as (session, actor):
        content = service.event_calendar(session, actor, event_id)
    out.write_bytes(content)
    console.print(f"Événement {event_id} écrit dans {out}")


@app.command(
    "equipment-add", epilog='Exemple : grappe cooperation equipment-add MECA "Salle blanche ISO 7" --rate 80'
)
def equipment_add(
    cluster: ClusterArgument,
    name: Annotated[str, typer.Argument(metavar="NOM", help="Nom de l'équipement.")],
    rate: Annotated[str, typer.Option("--rate", help="Tarif horaire en euros (ex. : 80).")],
    description: Annotated[str | None, typer.Option("--description", help="Présentation.")] = None,
) -> None:
    """Ajouter un équipement mutualisé (salle blanche, banc d'essai), facturé à l'heure."""
    from grappe.cooperation.actions import service
    from grappe.cooperation.actions.schemas import EquipmentIn

    data = operational.build(
        EquipmentIn, name=name, hourly_rate_eur=_amount("--rate", rate), description=description
    )
    with in_cluster(cluster) as (session, actor, cluster_id):
        equipment = service.create_equipment(session, actor, cluster_id, data)
    console.print(f"Équipement {equipment.id} : {equipment.name}, {equipment.hourly_rate_eur} €/h")


@app.command("equipment", epilog="Exemple : grappe cooperation equipment MECA")
def equipment_list(cluster: ClusterArgument, limit: Limit = 100) -> None:
    """Équipements mutualisés d'une structure."""
    from grappe.cooperation.actions import service

    print_listing(
        cluster,
        partial(service.list_equipment, limit=limit),
        "Équipements",
        ["n°", "nom", "tarif (€/h)"],
        lambda e: [e.id, e.name, e.hourly_rate_eur],
    )


@app.command(
    "book",
    epilog='Exemple : grappe cooperation --as u@firme.fr book 2 --from "2026-12-10 08:00" '
    '--to "2026-12-10 12:00"',
)
def book(
    equipment_id: EquipmentArgument,
    start: Annotated[str, typer.Option("--from", help=f"Début ({MOMENT_HELP}).")],
    end: Annotated[str, typer.Option("--to", help=f"Fin ({MOMENT_HELP}), exclue.")],
    organisation: OrganisationOption = None,
) -> None:
    """Réserver un équipement (refusé s'il chevauche une autre réservation, qui est nommée)."""
    from grappe.cooperation.actions import service
    from grappe.cooperation.actions.schemas import BookingIn

    data = operational.build(BookingIn, starts_at=start, ends_at=end, organisation_id=organisation)
    with operational.unit() as (session, actor):
        booking = service.book(session, actor, equipment_id, data)
    console.print(
        f"Réservation {booking.id} : {booking.organisation_name}, du {_on(booking.starts_at)} "
        f"au {_on(booking.ends_at)}"
    )


@app.command(
    "equipment-usage",
    epilog="Exemple : grappe cooperation equipment-usage 2 --from 2026-01-01 --to 2026-12-31",
)
def equipment_usage(
    equipment_id: EquipmentArgument,
    start: Annotated[str, typer.Option("--from", help="Premier jour (AAAA-MM-JJ ou JJ/MM/AAAA).")],
    end: Annotated[str, typer.Option("--to", help="Dernier jour, inclus.")],
) -> None:
    """Usage et facturation d'un équipement par adhérent sur une période (heures réservées)."""
    from grappe.cooperation.actions import service
    from grappe.cooperation.actions.schemas import LOCAL_TIME

    first, last = option_date("--from", start), option_date("--to", end)
    # whole days of French local time, the last one included
    since = dt.datetime.combine(first, dt.time(), LOCAL_TIME)
    until = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), LOCAL_TIME)
    with operational.unit(write=False) as (session, actor):
        bill = service.usage(session, actor, equipment_id, since, until)
    operational.table(
        f"Usage de l'équipement {equipment_id} du {first:%d/%m/%Y} au {last:%d/%m/%Y}",
        ["n° organisation", "organisation", "heures", "montant (€)"],
        [[line.organisation_id, line.organisation_name, line.hours, line.amount_eur] for line in bill.lines],
    )
    console.print(f"Total : {bill.total_hours} h, {bill.total_eur} €")


def _share(text: str) -> dict[str, str]:
    organisation, sep, percent = text.partition(":")
    if not sep or not organisation.strip().isdigit():
        raise InputError(f"--share {text!r} : attendu N°_ORGANISATION:POURCENTAGE (ex. : 12:60)")
    return {"organisation_id": organisation.strip(), "percent": str(_amount("--share", percent))}


@app.command(
    "position-create",
    epilog='Exemple : grappe cooperation position-create MECA "Responsable qualité" --from 2026-01-01 '
    "--cost 60000 --share 12:60 --share 34:40",
)
def position_create(
    cluster: ClusterArgument,
    title: Annotated[str, typer.Argument(metavar="INTITULÉ", help="Intitulé du poste.")],
    start: Annotated[str, typer.Option("--from", help="Début (AAAA-MM-JJ ou JJ/MM/AAAA).")],
    cost: Annotated[str, typer.Option("--cost", help="Coût annuel du poste en euros (ex. : 60000).")],
    shares: Annotated[
        list[str], typer.Option("--share", help="Part d'un adhérent, N°:POURCENTAGE ; répétable, total 100.")
    ],
    end: Annotated[str | None, typer.Option("--to", help="Fin (AAAA-MM-JJ ou JJ/MM/AAAA).")] = None,
) -> None:
    """Créer un poste partagé entre adhérents (recrutement commun) : les parts de temps font 100 %."""
    from grappe.cooperation.actions import service
    from grappe.cooperation.actions.schemas import PositionIn

    data = operational.build(
        PositionIn,
        title=title,
        start=_date("--from", start),
        end=_date("--to", end),
        yearly_cost_eur=_amount("--cost", cost),
        shares=[_share(text) for text in shares],
    )
    with in_cluster(cluster) as (session, actor, cluster_id):
        position = service.create_position(session, actor, cluster_id, data)
    console.print(f"Poste {position.id} : {position.title}")
    _print_shares(position.shares)


def _print_shares(shares: list[ShareOut]) -> None:
    operational.table(
        "Répartition",
        ["n° organisation", "organisation", "part (%)", "coût annuel (€)"],
        [[s.organisation_id, s.organisation_name, s.percent, s.yearly_cost_eur] for s in shares],
    )


@app.command("positions", epilog="Exemple : grappe cooperation positions MECA")
def positions(cluster: ClusterArgument, limit: Limit = 100) -> None:
    """Postes partagés d'une structure et leur répartition (un adhérent : ceux qu'il partage)."""
    from grappe.cooperation.actions import service

    print_listing(
        cluster,
        partial(service.list_positions, limit=limit),
        "Postes partagés",
        ["n°", "intitulé", "début", "fin", "coût annuel (€)", "répartition (%)"],
        lambda p: [
            p.id,
            p.title,
            p.start,
            p.end,
            p.yearly_cost_eur,
            ", ".join(f"{s.organisation_name} {s.percent}" for s in p.shares),
        ],
    )


PurchaseArgument = Annotated[int, typer.Argument(metavar="ACHAT", help="N° de l'achat groupé (ex. : 4).")]


def _print_purchase(purchase: PurchaseOut) -> None:
    saved = "" if purchase.savings_eur is None else f", économies {purchase.savings_eur} €"
    console.print(
        f"Achat groupé {purchase.id} : {purchase.title}, volume {purchase.volume} {purchase.unit}{saved}"
    )


@app.command(
    "purchase-open",
    epilog='Exemple : grappe cooperation purchase-open MECA "Électricité 2027" --unit MWh --price 150 '
    "--to 2026-12-31",
)
def purchase_open(
    cluster: ClusterArgument,
    title: Annotated[str, typer.Argument(metavar="INTITULÉ", help="Ce qui est acheté.")],
    unit: Annotated[str, typer.Option("--unit", help="Unité des quantités (ex. : MWh, t, licence).")],
    price: Annotated[str, typer.Option("--price", help="Prix unitaire de référence en euros (acheté seul).")],
    closes: Annotated[str, typer.Option("--to", help="Clôture des besoins (AAAA-MM-JJ ou JJ/MM/AAAA).")],
) -> None:
    """Ouvrir un achat groupé : les adhérents expriment leurs besoins jusqu'à la clôture."""
    from grappe.cooperation.actions import service
    from grappe.cooperation.actions.schemas import PurchaseIn

    data = operational.build(
        PurchaseIn,
        title=title,
        unit=unit,
        reference_price_eur=_amount("--price", price),
        closes_on=_date("--to", closes),
    )
    with in_cluster(cluster) as (session, actor, cluster_id):
        purchase = service.create_purchase(session, actor, cluster_id, data)
    _print_purchase(purchase)


@app.command("purchase-need", epilog="Exemple : grappe cooperation --as u@firme.fr purchase-need 4 120")
def purchase_need(
    purchase_id: PurchaseArgument,
    quantity: Annotated[str, typer.Argument(metavar="QUANTITÉ", help="Besoin, dans l'unité de l'achat.")],
    organisation: OrganisationOption = None,
) -> None:
    """Exprimer (ou modifier) le besoin d'un adhérent dans un achat groupé."""
    from grappe.cooperation.actions import service
    from grappe.cooperation.actions.schemas import NeedIn

    data = operational.build(NeedIn, quantity=_amount("QUANTITÉ", quantity), organisation_id=organisation)
    with operational.unit() as (session, actor):
        purchase = service.state_need(session, actor, purchase_id, data)
    _print_purchase(purchase)


@app.command(
    "purchase-conclude", epilog='Exemple : grappe cooperation purchase-conclude 4 "Enercoop" --price 120'
)
def purchase_conclude(
    purchase_id: PurchaseArgument,
    supplier: Annotated[str, typer.Argument(metavar="FOURNISSEUR", help="Fournisseur retenu.")],
    price: Annotated[str, typer.Option("--price", help="Prix unitaire négocié en euros.")],
) -> None:
    """Conclure un achat groupé : fournisseur et prix négocié ; les économies par adhérent en découlent."""
    from grappe.cooperation.actions import service
    from grappe.cooperation.actions.schemas import PurchaseDeal

    data = operational.build(PurchaseDeal, supplier=supplier, negotiated_price_eur=_amount("--price", price))
    with operational.unit() as (session, actor):
        purchase = service.conclude_purchase(session, actor, purchase_id, data)
    _print_purchase(purchase)
    operational.table(
        "Besoins",
        ["n° organisation", "organisation", f"quantité ({purchase.unit})", "économies (€)"],
        [[n.organisation_id, n.organisation_name, n.quantity, n.savings_eur] for n in purchase.needs],
    )


@app.command("purchases", epilog="Exemple : grappe cooperation purchases MECA")
def purchases(cluster: ClusterArgument, limit: Limit = 100) -> None:
    """Achats groupés d'une structure : volume, fournisseur, économies."""
    from grappe.cooperation.actions import service

    print_listing(
        cluster,
        partial(service.list_purchases, limit=limit),
        "Achats groupés",
        ["n°", "intitulé", "clôture", "volume", "fournisseur", "prix négocié (€)", "économies (€)"],
        lambda p: [
            p.id,
            p.title,
            p.closes_on,
            f"{p.volume} {p.unit}",
            p.supplier,
            p.negotiated_price_eur,
            p.savings_eur,
        ],
    )


# --- services sold to members -------------------------------------------------------------------

OfferArgument = Annotated[int, typer.Argument(metavar="OFFRE", help="N° de l'offre de service (ex. : 4).")]


@app.command(
    "service-add",
    epilog='Exemple : grappe cooperation service-add MECA "Diagnostic export" --price 450 --unit jour',
)
def service_add(
    cluster: ClusterArgument,
    name: Annotated[str, typer.Argument(metavar="NOM", help="Nom du service vendu aux adhérents.")],
    price: Annotated[str, typer.Option("--price", help="Prix unitaire HT en euros (ex. : 450).")],
    unit: Annotated[str, typer.Option("--unit", help="Ce que compte une quantité (défaut : prestation).")] = (
        "prestation"
    ),
    description: Annotated[str | None, typer.Option("--description", help="Présentation.")] = None,
) -> None:
    """Proposer un service aux adhérents ; ses ventes alimentent la ligne « prestations » du financement."""
    from grappe.cooperation.actions import service
    from grappe.cooperation.actions.schemas import OfferIn

    data = operational.build(
        OfferIn, name=name, unit=unit, unit_price_eur=_amount("--price", price), description=description
    )
    with in_cluster(cluster) as (session, actor, cluster_id):
        offer = service.create_offer(session, actor, cluster_id, data)
    from grappe.kit.present import money

    console.print(f"Offre {offer.id} : {offer.name}, {money(offer.unit_price_eur)} par {offer.unit}")


@app.command("services", epilog="Exemple : grappe cooperation services MECA")
def services(cluster: ClusterArgument, limit: Limit = 100) -> None:
    """Services vendus aux adhérents, avec leurs ventes (un adhérent : ceux en vente)."""
    from grappe.cooperation.actions import service

    print_listing(
        cluster,
        partial(service.list_offers, limit=limit),
        "Services",
        ["n°", "service", "unité", "prix (€ HT)", "en vente", "ventes", "chiffre d'affaires (€)"],
        lambda o: [
            o.id, o.name, o.unit, o.unit_price_eur, "oui" if o.active else "non", o.sales, o.revenue_eur
        ],
    )


@app.command(
    "sale-add",
    epilog="Exemple : grappe cooperation sale-add 4 --organisation 12 --date 2025-03-14 --quantity 2",
)
def sale_add(
    offer: OfferArgument,
    organisation: Annotated[int, typer.Option("--organisation", help="N° de l'organisation adhérente.")],
    on: Annotated[str, typer.Option("--date", help="Date de la vente, AAAA-MM-JJ ou JJ/MM/AAAA.")],
    quantity: Annotated[str, typer.Option("--quantity", help="Quantité (défaut : 1).")] = "1",
    amount: Annotated[
        str | None, typer.Option("--amount", help="Montant en euros (défaut : quantité × prix).")
    ] = None,
) -> None:
    """Enregistrer une vente à un adhérent ; la ligne « prestations » de l'année suit."""
    from grappe.cooperation.actions import service
    from grappe.cooperation.actions.schemas import SaleIn

    data = operational.build(
        SaleIn,
        organisation_id=organisation,
        sold_on=_date("--date", on),
        quantity=_amount("--quantity", quantity),
        amount_eur=None if amount is None else _amount("--amount", amount),
    )
    with operational.unit() as (session, actor):
        sale = service.record_sale(session, actor, offer, data)
    from grappe.kit.present import money

    console.print(
        f"Vente {sale.id} : {sale.offer_name} à {sale.organisation_name}, {money(sale.amount_eur)} "
        f"le {sale.sold_on:%d/%m/%Y}"
    )


@app.command("sales", epilog="Exemple : grappe cooperation sales MECA --year 2025")
def sales(
    cluster: ClusterArgument,
    year: Annotated[int | None, typer.Option("--year", help="Année des ventes (défaut : toutes).")] = None,
    limit: Limit = 100,
) -> None:
    """Ventes de services d'une structure, les plus récentes d'abord (un adhérent : ses achats)."""
    from grappe.cooperation.actions import service

    print_listing(
        cluster,
        partial(service.list_sales, year=year, limit=limit),
        "Ventes",
        ["n°", "date", "service", "organisation", "quantité", "montant (€)"],
        lambda s: [
            s.id, f"{s.sold_on:%d/%m/%Y}", s.offer_name, s.organisation_name, s.quantity, s.amount_eur
        ],
    )


@app.command("services-revenue", epilog="Exemple : grappe cooperation services-revenue MECA")
def services_revenue(cluster: ClusterArgument) -> None:
    """Chiffre d'affaires annuel des services vendus aux adhérents (gestionnaires, financeurs)."""
    from grappe.cooperation.actions import service

    with in_cluster(cluster, write=False) as (session, actor, cluster_id):
        revenue = service.services_revenue(session, actor, cluster_id)
    operational.table(
        "Services vendus aux adhérents, par année",
        ["année", "ventes", "adhérents acheteurs", "chiffre d'affaires (€)"],
        [[y.year, y.sales, y.buyers, y.amount_eur] for y in revenue.years],
    )

"""A seeded, self-made corpus of short English stories with planted defects and ground truth.

``retold demo`` needs data that exercises every stage of the pipeline without downloading
anything, so this module writes its own stories from templates (standard library only) and
plants four kinds of defect whose answers it knows:

``exact``
    a verbatim copy of an original; about half differ in case and whitespace only (extra spaces,
    a trailing newline, one word upper-cased, a sentence lower-cased, Unicode NFD instead of NFC),
    so they are still equal after NFC, casefolding and whitespace folding.
``near``
    an original with light edits: 2-8% of its words replaced, deleted or inserted, or one extra
    sentence appended. The note gives the word 5-gram Jaccard with the original (0.72-0.95).
``retold``
    the same story told again as an LLM rewrite tells it: the same events in the same order, with
    the same roles, every character renamed (the place too, half the time), the story's two own
    details (sentences composed from word lists, which no other story shares) kept nearly whole,
    and every other sentence in a different phrasing with common words swapped for synonyms. Word
    5-gram Jaccard with the original stays below 0.3. Originals have their common words swapped
    for synonyms too, so that two drawn from one template rarely share a sentence word for word.
``mojibake``
    a fresh story (not a copy of any other document, so ``of`` is None) that contains non-ASCII
    words such as ``Zoë``, ``São Paulo`` or ``crème brûlée``, damaged by encoding as UTF-8 and
    decoding as ``mac_roman`` or ``cp1252``: the whole text for half of them, one word for the rest.
    :func:`clean_texts` gives the undamaged texts.

How a story is made. A story is a *plan* – a list of paragraphs, each a list of sentence
templates given as (key, variant) – plus *slots* (character names, place, objects, ...). The
plan is drawn from a premise (one of :data:`PROMPTS`, each with its own opening sentence), one or
two introductions of the other characters, 5-8 events from a pool of about seventy, optional
scene-setting sentences and a closing sentence. Every template has three phrasings. Rendering
fills the slots; a retelling keeps the keys, picks another phrasing for every sentence and
renders the plan with other names. Because events are drawn from a large pool and each story has
its own names, two originals share hardly any word 5-grams.

Everything is drawn from one ``random.Random(seed)``, in a fixed order, so the same
``(n_stories, seed)`` always gives the same corpus.
"""

from __future__ import annotations

import json
import random
import re
import sys
import unicodedata
from dataclasses import dataclass

__all__ = [
    "FIRST_NAMES",
    "PLACES",
    "PROMPTS",
    "SURNAMES",
    "Planted",
    "clean_texts",
    "generate_corpus",
    "word_ngram_jaccard",
]


@dataclass(frozen=True)
class Planted:
    """Ground truth for one planted document."""

    id: str  # the planted document's id
    kind: str  # "exact" | "near" | "retold" | "mojibake"
    of: str | None  # id of the original it was derived from (None for nothing)
    note: str  # short human description, e.g. "3 words replaced, word 5-gram Jaccard 0.82"


# --------------------------------------------------------------------------------------------
# Vocabulary. Names are chosen so that none of them is also an English word or a place, and all
# non-ASCII letters are in U+00C0-U+00FF: in UTF-8 they start with byte C3, which mac_roman
# shows as "√" and cp1252 as "Ã", so the damage is always visible.


def _list(text: str, sep: str = ",") -> tuple[str, ...]:
    """The ``sep``-separated items of ``text``."""
    return tuple(item.strip() for item in text.split(sep) if item.strip())


FIRST_NAMES: tuple[str, ...] = _list(
    """
Omar, Priya, Tobias, Keiko, Dmitri, Amara, Callum, Ingrid, Rafael, Nadia, Felix, Yusuf, Leonie,
Kwame, Marcus, Hana, Bruno, Saskia, Tariq, Mirela, Oskar, Leila, Henrik, Ayesha, Declan, Fatima,
Lorenzo, Mei, Rohan, Greta, Idris, Nkechi, Silas, Anouk, Jasper, Thandiwe, Viktor, Soraya, Emeka,
Lucinda, Ansel, Beatrix, Cormac, Dalia, Ezra, Freya, Gideon, Hamza, Imogen, Kasimir, Linnea, Mateo,
Nilufar, Orla, Pavel, Quentin, Rosalind, Sunil, Tamsin, Ulrich, Wanjiru, Ximena, Yara, Zubair, Zoë,
José, Chloë, Renée, Anaïs, Björn, Søren, Noël, Inès, Céline, Raphaël, Matías, Jürgen, Sébastien,
Aurélie, Léa, Maëlle, Joël, Andrés, Ramón, Thaïs, Agnès
"""
)

SURNAMES: tuple[str, ...] = _list(
    """
Okafor, Lindqvist, Haddad, Novak, Castellano, Whitfield, Brennan, Tanaka, Osei, Kowalski, Ferreira,
Abernathy, Petrov, Achterberg, Holloway, Quispe, Rahman, Sato, Vasquez, Thornbury, Ellery,
Nakamura, Ashworth, Iyer, Marchetti, Hargreaves, Müller, Núñez, Gómez, Sørensen, Béranger,
Håkansson, Löwe, Ibáñez, Dubé, Lefèvre, Çelik, Ångström
"""
)

PLACES: tuple[str, ...] = _list(
    """
Lisbon, Galway, Hobart, Bruges, Dubrovnik, Tangier, Kyoto, Portland, Edinburgh, Marseille, Halifax,
Cork, Odessa, Trieste, Porto, Bergen, Antwerp, Whitby, Penzance, Oaxaca, Naples, Ljubljana,
Tallinn, Hanoi, São Paulo, Zürich, Montréal, Málaga, Kraków, Reykjavík, Besançon, Nîmes, Tromsø,
Québec, Córdoba, Bogotá, Malmö, Valparaíso
"""
)

_OBJECTS: tuple[str, ...] = _list(
    """
brass key, faded photograph, wooden box, torn map, silver locket, leather notebook, broken compass,
music box, sealed envelope, red umbrella, pocket watch, glass bottle, old radio, stamp album,
paper lantern, painted kite, iron bell, knitted scarf, chipped teacup, velvet purse, copper kettle,
folded blueprint, wind-up toy, clay whistle, embroidered handkerchief
"""
)

_FOODS: tuple[str, ...] = _list(
    """
lemon cake, onion soup, apple pie, ginger biscuits, lentil stew, plum tart, cheese scones,
fish pie, crème brûlée, pâté on toast, crêpes, a cheese soufflé, jalapeño cornbread
"""
)

_RELATIONS: tuple[str, ...] = _list(
    """
neighbour, oldest friend, younger sibling, business partner, tenant, cousin, former colleague,
flatmate, upstairs neighbour, childhood friend, assistant, protégé, apprentice, godchild, accountant
"""
)

_DAYS: tuple[str, ...] = _list("Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday")

_NON_ASCII_RE = re.compile(r"\w*[\u00c0-\u00ff]\w*")

# --------------------------------------------------------------------------------------------
# Templates. Blocks are separated by blank lines; each line of a block is one phrasing of the
# same sentence. Slots: {A} {Asur} {B} {C} {place} {role} {obj} {a_obj} {obj2} {a_obj2} {food}
# {day} {relB} {relC}. A template that mentions {C} is only used in three-character stories.

# Premises: first line "prompt | role", then phrasings of the opening sentence.
_PREMISES_TEXT = """
a retired spy opens a café | retired spy
After thirty years of secret work abroad, {A} {Asur} came home to {place} and opened a small café.
{A} {Asur} once carried false passports in three languages, but now ran a tiny café in {place}.
Nobody in {place} guessed that the quiet owner of the corner café, {A} {Asur}, used to be a spy.

a child finds a lost dog | curious ten-year-old
{A} {Asur} was ten when a muddy, shivering dog followed the child home through the lanes of {place}.
One wet afternoon in {place}, a ten-year-old named {A} {Asur} found a lost dog sheltering under a bench.
The dog had no collar, and {A} {Asur}, aged ten, vowed to get it back to its owner somewhere in {place}.

a lighthouse keeper receives a mysterious letter | lighthouse keeper
{A} {Asur} had kept the lighthouse outside {place} for nineteen years when an unsigned letter arrived.
The supply boat to the light near {place} brought tins and, one day, a letter for {A} {Asur}.
Few people ever wrote to {A} {Asur}, keeper of the beacon off {place}, so the envelope was a puzzle.

a baker enters a national baking contest | baker
{A} {Asur} ran the oldest bakery in {place} and had never entered a competition before.
When posters for the national contest appeared across {place}, the baker {A} {Asur} signed up on impulse.
For twenty years {A} {Asur} had lit the ovens at dawn in {place}, and this spring meant to win a prize.

two strangers are stuck in a lift | night-shift nurse
{A} {Asur}, a night-shift nurse in {place}, stepped into the hospital lift just as the power failed.
The elevator at the {place} hospital shuddered and stopped, trapping {A} {Asur} with a stranger.
At three in the morning the electricity died, and {A} {Asur}, who worked nights on a ward, was stuck.

a singer loses their voice before a concert | singer
Two days before the biggest concert of a long career, {A} {Asur} woke up in {place} unable to sing.
{A} {Asur} had performed in halls all over the world, yet in {place} that week the voice simply vanished.
The show in {place} was sold out, and its star, {A} {Asur}, could barely manage a whisper.

a gardener discovers a hidden door in a wall | gardener
While clearing ivy from the old estate wall in {place}, the gardener {A} {Asur} uncovered a narrow door.
{A} {Asur} had tended the grounds at {place} for years before noticing a gate behind the climbing roses.
Under decades of creepers at the edge of a park in {place}, {A} {Asur} found something unexpected.

a librarian finds a book that writes itself | librarian
{A} {Asur}, the only librarian in {place}, found a blank book that filled with new lines every night.
Each morning, when {A} {Asur} unlocked the reading room in {place}, a grey volume had grown longer.
Nobody had borrowed it or returned it, yet the book {A} {Asur} discovered in {place} kept writing itself.

an old fisherman teaches a grandchild to sail | fisherman
{A} {Asur} had fished the waters off {place} for fifty years and meant to teach the youngest grandchild.
At seventy-three, {A} {Asur} still took a boat out of {place} each dawn, and this summer had a pupil.
The harbour at {place} had been home to {A} {Asur} for half a century, and it was time to pass it on.

a taxi driver picks up a passenger with no memory | taxi driver
{A} {Asur} drove a taxi through {place} every night and thought nothing could surprise a driver anymore.
Late one evening in {place}, cabbie {A} {Asur} picked up a fare who could not remember a name.
In twelve years behind the wheel in {place}, {A} {Asur} had never met a rider who had forgotten everything.

a chef must cook for a famous critic | chef
{A} {Asur} was head chef of a small restaurant in {place} when the most feared critic booked a table.
The reservation was for Friday, and the name on it made {A} {Asur} sit down heavily in the kitchen.
Every cook in {place} knew one review could close a restaurant, and now {A} {Asur} had to impress.

a teacher organises a school trip that goes wrong | teacher
{A} {Asur} had taught at the primary school in {place} for a decade and planned the class trip minutely.
The school outing from {place} was supposed to be simple, and {A} {Asur} had checked the list thrice.
Thirty children, one coach and a schedule written by {A} {Asur} of {place} should have been enough.

a clockmaker repairs a clock that runs backwards | clockmaker
{A} {Asur} had mended clocks in a narrow workshop in {place}, but never one whose hands went backwards.
A customer left a tall clock at the {place} workshop, and by morning {A} {Asur} saw it running in reverse.
The clockmaker {A} {Asur} knew every chime in {place}, so a clock that counted time backwards was a mystery.

a postman delivers a letter fifty years late | postman
{A} {Asur} had carried the post around {place} for years when a letter stamped fifty years earlier turned up.
Behind a cabinet in the sorting office at {place}, staff found an undelivered letter, and {A} {Asur} took it.
The envelope was yellow and the stamp showed a long-dead king, yet {A} {Asur} intended to deliver it.

a painter returns home after twenty years | painter
Twenty years after leaving, the painter {A} {Asur} came back to {place} with two suitcases of canvases.
{A} {Asur} had painted cities all over the world but had not set foot in {place}, home, for two decades.
When the train pulled into {place}, {A} {Asur} realised that the artist who had left was now a stranger there.

a beekeeper prepares for a storm | beekeeper
The radio warned of the worst storm in years, and {A} {Asur}, who kept forty hives above {place}, had a day.
{A} {Asur} had kept bees on the hills over {place} since childhood, and the sky that morning looked wrong.
A gale was coming to {place}, and for {A} {Asur} that meant a race to secure every single hive.
"""

_INTRO_B_TEXT = """
{B}, {A}'s {relB}, had opinions about everything and shared most of them.
{A}'s {relB} {B} was never short of a view and rarely kept one private.
There was also {B}, the {relB}, who could not hear a plan without commenting on it.

{B}, who was {A}'s {relB}, came by most evenings with news from the town.
Most evenings brought a visit from {B}, the {relB}, carrying whatever gossip {place} had produced.
Gossip reached {A} mainly through {B}, the {relB}, who dropped in almost every night.

{A} trusted only one person completely: {B}, {A}'s {relB}.
If anyone had {A}'s full confidence, it was {B}, the {relB}.
Of everyone in {place}, the {relB} {B} was the one person {A} would rely on for anything.

{B}, the {relB}, had a habit of turning up exactly when needed.
{A}'s {relB}, {B}, always seemed to arrive at precisely the right moment.
Somehow {B} appeared whenever help was required, as a good {relB} should.

{B} was {A}'s {relB} and the most patient listener in {place}.
Nobody in {place} listened as patiently as {B}, {A}'s {relB}.
When {A} needed to talk, the {relB} {B} would sit for hours and simply listen.

{A} shared a kitchen table and many arguments with {B}, the {relB}.
{B}, {A}'s {relB}, debated with {A} over breakfast nearly every day.
Breakfast at {A}'s place usually came with a quarrel, courtesy of {B}, the {relB}.
"""

_INTRO_C_TEXT = """
Then there was {C}, the {relC}, who asked too many questions.
{C}, {A}'s {relC}, never stopped asking things.
Questions poured out of {C}, the {relC}, from dawn until bedtime.

{C}, the {relC}, was new to {place} and curious about everything.
Having only just moved to {place}, {C}, {A}'s {relC}, wanted to see it all.
The {relC}, {C}, had arrived a month earlier and was still exploring every street.

{C}, the {relC}, kept careful notes on everything that happened.
Everything that happened ended up in the notebooks of {C}, {A}'s {relC}.
The {relC} {C} wrote down each day's events in small, neat handwriting.

{C}, {A}'s {relC}, laughed loudly and often, even at bad news.
Even grim tidings made {C}, the {relC}, laugh out loud.
The loudest laugh in {place} belonged to {C}, the {relC}.

{C}, the {relC}, distrusted {B} from the very first day.
From the start, the {relC} {C} did not believe a word {B} said.
{B} and {C}, {A}'s {relC}, had disliked each other from the moment they met.
"""

_EVENTS_TEXT = """
On {day} morning {A} found {a_obj} hidden under a loose floorboard by the back door.
A loose board near the rear entrance gave way that {day}, and beneath it {A} spotted {a_obj}.
Prising up a creaking plank that {day}, {A} discovered {a_obj} that someone had hidden long ago.

{A} and {B} argued for an hour about money and neither of them would give way.
A long quarrel over cash broke out between {B} and {A}, and both refused to back down.
For an entire hour {B} insisted on one thing about the bills and {A} on the opposite.

{B} arrived at dusk with {food} and refused to leave until {A} had eaten some.
As evening fell, {B} turned up carrying {food} and stayed until every bite was gone.
Just before dark there was a knock, and there stood {B} holding {food} for {A}.

That night a storm rattled every window in {place} and {A} hardly slept.
Wind and rain hammered {place} all night, keeping {A} awake until dawn.
{A} lay awake listening as the gale shook the shutters of half the houses in town.

At the Saturday market {A} bought three lemons, a ball of string and far too many postcards.
{A} wandered between the stalls of the weekend fair and came home with twine, fruit and a pile of cards.
Postcards, lemons and some string were all {A} could show for a whole morning of shopping.

A letter came for {A} with a stamp from a country nobody in {place} had ever visited.
The post brought {A} an envelope bearing a foreign stamp that puzzled the whole neighbourhood.
Nobody in {place} recognised the stamp on the envelope that was delivered to {A} that week.

Late in the evening {B} telephoned with news that could not wait until morning.
The phone rang after ten, and the voice of {B} on the line said it was urgent.
{B} called well after dark, too excited to keep the news until the next day.

{A} spent the whole afternoon searching for the {obj}, which had vanished from its shelf.
By lunchtime the {obj} was missing, and {A} turned the house upside down looking for it.
The shelf was empty where the {obj} should have been, and {A} hunted for hours without success.

{A} made a mistake that morning that would have been funny if it had not been so expensive.
That day {A} got something badly wrong, an error that cost far more than it was worth laughing about.
It was a costly blunder, and {A} knew by noon that nobody would find it amusing.

A stranger in a green coat stopped to help {A} carry the boxes up the hill.
Halfway up the slope with the crates, {A} was rescued by a passer-by wearing a green jacket.
The cartons were too heavy, but someone unknown took half of them from {A} without a word.

{C} arrived two hours late, soaked to the skin and full of apologies.
Two hours after the agreed time, a drenched {C} finally appeared, apologising over and over.
Dripping wet and endlessly sorry, {C} turned up long after everyone had given up waiting.

{A} decided to learn the accordion and practised every evening until the neighbours complained.
Every night for weeks {A} squeezed out accordion scales, much to the irritation of the people next door.
The household next door soon regretted the evening {A} brought home an accordion and started lessons.

With a borrowed screwdriver {A} took apart the {obj} and put it back together, mostly correctly.
{A} borrowed tools, dismantled the {obj} on the kitchen table and rebuilt it with one part left over.
The {obj} lay in pieces for an evening until {A} reassembled it, leaving a single spare screw.

Unable to sleep, {A} walked through the empty streets of {place} until the sky turned grey.
Sleep would not come, so {A} wandered the deserted lanes of {place} until first light.
{A} gave up on rest and roamed silent {place} until dawn crept over the rooftops.

The smell of rain reminded {A} of a summer long ago, when everything had seemed simple.
Rain on warm stone brought back a childhood July to {A}, a season when nothing had been complicated.
{A} caught the scent of a wet pavement and was suddenly a child again, in a summer without worries.

The whole of {place} turned out for the lantern festival, and {A} was asked to carry the first lantern.
When the lantern festival filled the streets of {place}, the honour of leading the parade went to {A}.
{A} led the procession at the feast of lights while the rest of {place} followed with candles.

A power cut plunged the street into darkness, and {A} and {B} played cards by candlelight.
When the electricity failed, {B} found candles and {A} dealt a pack of cards until midnight.
The lights went out across the neighbourhood, so {A} lit a candle and beat {B} at rummy five times.

{A} took the early train to the coast and watched the fields slide past the window.
On the first train of the day, {A} rode towards the sea, gazing at the passing farmland.
Farmland rolled by outside the carriage as {A} travelled to the seaside at dawn.

A neighbour complained about the noise, and {A} apologised with a jar of honey.
The woman next door grumbled about the racket, so {A} made peace by offering honey.
{A} smoothed over a complaint from next door with a gift from the beehives.

Over dinner {B} finally admitted a secret that had been kept for twenty years.
{B} confessed something at the supper table that had stayed hidden for two decades.
It took twenty years and a long meal before {B} revealed the truth to {A}.

{C} told a joke so terrible that even {A} had to laugh.
The joke {C} told was dreadful, yet it made {A} laugh out loud anyway.
Even {A}, who rarely smiled, could not help chuckling at the awful gag from {C}.

{A} wrote a list of everything that had gone wrong and then, on the back, everything that had gone right.
On one side of a sheet {A} listed every failure, and on the other side every success.
Failures filled the front of the page and triumphs the back when {A} sat down to take stock.

In the pocket of an old coat {A} found a banknote and a ticket for a concert from years ago.
An old jacket gave up two surprises for {A}: some forgotten money and a gig ticket long out of date.
{A} reached into a garment not worn for years and pulled out cash along with a stub from another decade.

A football crashed through the front window, and {A} went outside to find the culprit.
Glass shattered as a ball came through the pane, sending {A} out to look for whoever had kicked it.
{A} marched out to the street after somebody's shot smashed the front window.

A thin grey cat appeared on the doorstep and decided, without asking, to move in with {A}.
Without any invitation a scrawny grey cat settled at the home of {A} and made itself comfortable.
{A} opened the door to find a skinny tabby that plainly intended to stay forever.

{A} tried to cook {food} from a recipe in a book, and the kitchen filled with smoke.
Following the cookbook for {food}, {A} managed mostly to set off the smoke alarm.
The attempt at {food} ended with {A} opening every window to let the fumes escape.

The doctor told {A} to rest, which was the one piece of advice {A} never followed.
{A} was ordered by the physician to take it easy and ignored the order almost at once.
Stay in bed, said the GP firmly, and {A} nodded, fully intending to do nothing of the kind.

Among some papers {A} found a photograph of {B} as a child, standing on a pier in {place}.
A childhood picture of {B} on a jetty in {place} fell out of a folder {A} was sorting.
{A} came across a snapshot showing a young {B} by the harbour wall, tucked inside a bundle of documents.

{A} apologised to {B} for the things said in anger, and {B} accepted with a shrug.
With a shrug {B} accepted the apology {A} offered for the angry words of the week before.
{B} waved away the regrets, though {A} had spent all night preparing a speech.

That night {A} dreamed of a house with no doors and woke up laughing.
{A} woke in fits of giggles after a dream about a building that had no way in or out.
In a dream {A} wandered around a doorless mansion, and the morning began with a grin.

{A} entered the town quiz and lost on the very last question, about the capital of Peru.
The final question of the pub quiz asked for Peru's capital, and it cost {A} the prize.
Only the capital of Peru stood between {A} and first place at trivia night, and {A} got it wrong.

{A} and {B} rowed out to the island and ate their sandwiches on the rocks.
Sandwiches tasted better on the island after {B} and {A} had rowed all the way across.
{A} and {B} took a rowing boat to the islet for a picnic on the stones.

{A} climbed the hill above {place} and could see the whole town laid out like a map.
From the top of the ridge over {place}, {A} looked down at streets as small as lines on a chart.
The climb was steep, but at the summit {A} saw all of {place} spread out below.

On the back of an old map {A} noticed a pencil cross marking a spot near the river.
Someone had drawn a small cross in pencil on an ancient chart, close to the water, and {A} spotted it.
{A} turned a yellowed plan over and found a faint pencilled X beside the riverbank.

{A} and {B} talked until three in the morning about the lives they might have lived.
Until three o'clock {B} and {A} sat up discussing the paths they had not taken.
The conversation ran past midnight and on to three, as {A} and {B} imagined other futures.

A tourist asked {A} for directions to the cathedral, and {A} ended up walking the whole way there.
{A} was stopped by a lost visitor looking for the cathedral and escorted the visitor right to its steps.
Instead of simply pointing, {A} guided the confused traveller through town to the church door.

{A} heard a song on the radio that had been playing on the day {B} first came to {place}.
The radio played the very tune that had been on when {B} arrived in {place}, and {A} stopped to listen.
A melody from the wireless took {A} straight back to the afternoon {B} had first turned up in town.

For no particular reason {B} gave {A} {a_obj2} wrapped in newspaper.
{A} unwrapped a parcel of old newsprint from {B} and found {a_obj2} inside.
Without any occasion to mark, {B} handed over {a_obj2} bundled in yesterday's paper.

The fire alarm went off at dawn, and {A} stood in the street in pyjamas with everyone else.
At daybreak the siren sounded, and {A} joined the neighbours shivering outside in nightclothes.
{A} waited on the pavement at sunrise with the rest of the building after the bell rang out.

{A} fell off a bicycle on the cobbles and arrived at the meeting with a torn sleeve.
The cobbled street threw {A} from the bike, so the appointment began with a ripped cuff.
A tumble from the cycle left {A} with a tear in one arm of the coat and a story to tell.

{A} spent a rainy afternoon in the library reading about the history of {place}.
While it poured outside, {A} sat among the shelves learning how {place} came to be.
The past of {place} kept {A} busy at a reading-room table for an entire wet afternoon.

{A} missed the last bus and had to walk home along the dark coast road.
With the final coach already gone, {A} trudged back by the unlit lane beside the sea.
The last bus pulled away just as {A} arrived, which meant a long walk in the dark by the shore.

{A} painted the kitchen wall yellow and then, after one look, painted it white again.
The kitchen was yellow for exactly one day before {A} covered it over in white.
One glance at the freshly coloured room convinced {A} to reach for the pale paint.

{A} planted tomatoes in the yard, although everyone said it was far too late in the year.
Ignoring all warnings that the season was over, {A} put tomato plants into the ground.
Everybody insisted it was too late for vegetables, so naturally {A} planted a whole row.

{B} fell ill with a fever, and {A} sat by the bed reading aloud from a detective novel.
When flu kept {B} in bed, {A} stayed close and read chapter after chapter of a mystery.
{A} read a crime story aloud for days while {B} recovered from a high temperature.

{A} had promised {B} to finish the job by Friday and worked through the night to keep that promise.
To keep the pledge made to {B}, {A} laboured until dawn so the task would be done by Friday.
The deadline {B} had been given was Friday, and {A} stayed up all night rather than miss it.

An old debt came back to haunt {A} in the form of a polite but firm letter.
{A} received a courteous yet unmistakable reminder of money owed years ago.
A note arrived, civil in tone but insistent, about a sum {A} had borrowed long before.

At the post office {A} ran into an old rival who had not changed at all.
{A} bumped into a former enemy in the queue for stamps and found the rival exactly the same.
Standing in line at the counter was the one person {A} had hoped never to meet again.

{A} soon realised the {obj} mattered, but the key that came with it fitted no lock in {place}.
{A} tried the little key found with the {obj} in every door in town, and none of them opened.
No drawer or gate in {place} would accept the key that had been tied to the {obj}.

Snow fell overnight, and by morning {place} was silent and white.
{A} woke to find {place} buried in drifts and utterly quiet.
Overnight the flakes came down so thickly that {A} could hear nothing at all at dawn.

The local newspaper printed a story about {A}, getting almost every detail wrong.
{A} appeared in the town paper in an article that managed to misreport nearly every fact.
Nearly everything was inaccurate in the piece the gazette ran about {A} that week.

{A} took a shortcut through the woods and was lost within ten minutes.
Ten minutes into a supposed short route among the trees, {A} had no idea where the path had gone.
The forest detour that {A} chose led nowhere, and soon every direction looked the same.

A parcel with no return address waited for {A} on the step, and inside was {a_obj2}.
{A} found an unmarked package on the doorstep containing {a_obj2}.
There was no sender's name on the box left outside for {A}, only {a_obj2} packed in straw.

{A} and {C} lay on the roof with a borrowed telescope, naming stars they did not know.
With a telescope lent by a friend, {C} and {A} spent the night up top inventing names for planets.
Up on the tiles, {A} and {C} peered through a borrowed spyglass and gave every star a made-up title.

{A} baked bread for the first time, and it came out as hard as a brick.
The first loaf {A} ever made was dense enough to use as a doorstop.
A stone would have been softer than the dough {A} pulled from the oven that afternoon.

By Thursday {A} was ready to give up and even packed a suitcase.
{A} nearly quit on Thursday and got as far as filling a travel bag.
On Thursday the urge to abandon everything was so strong that {A} packed for a trip.

{B} refused to let {A} quit and listed every reason to carry on.
One by one {B} counted off the reasons {A} should keep going, and would not hear of stopping.
Giving in was out of the question, {B} insisted, reciting a whole list of arguments to {A}.

{C} unfolded a plan drawn on a napkin, and it was better than anything {A} had thought of.
On the back of a paper serviette {C} had sketched a scheme that beat all the ideas {A} had.
{A} had to admit that the napkin drawing {C} produced was cleverer than any other proposal.

They celebrated with a picnic on the beach, and {B} made a speech nobody could hear over the wind.
There was a seaside party to celebrate, where the breeze carried away every word {B} said.
{B} stood up to give a toast at the sandy feast, but the gusts swallowed it entirely.

{A} walked along the river with {B}, saying very little and needing to say less.
Side by side, {B} and {A} followed the towpath in comfortable silence.
Few words passed between {A} and {B} on their long stroll beside the water.

At an auction in {place} {A} bid on a painting by accident and went home with it.
{A} raised a hand to wave at a friend at the sale and ended up owning a landscape.
A careless gesture in the saleroom in {place} left {A} the surprised owner of an oil portrait.

Water seeped into the cellar overnight, and {A} spent the day bailing it out with a bucket.
The cellar flooded in the night, so {A} was busy with a pail from breakfast until supper.
{A} found the basement ankle-deep at dawn and emptied it bucket by bucket.

{A} dropped the phone into the harbour and felt, for a moment, completely free.
When the mobile slipped from the grip of {A} into the dock, the main feeling was relief.
The handset vanished into the water, and oddly {A} felt lighter without it.

{C} came back from abroad with a suitcase full of presents and stories that were mostly true.
After months away, {C} returned carrying gifts and tales, only a few of them exaggerated.
A case of souvenirs and a head full of half-true adventures came home with {C}.

{A} met {B} at a café and ordered a crème brûlée that neither of them could finish.
At a little bistro, {B} and {A} shared a crème brûlée far too large for two.
The dessert at the café defeated both {A} and {B} before they were halfway through.

{B} called the plan naïve, and {A} had to admit there was some truth in that.
{A} grudgingly agreed when {B} described the scheme as naïve.
It was a childish idea, {B} said, and deep down {A} knew the criticism was fair.

{A} rewrote an old résumé late at night, just in case things went wrong.
In case everything fell apart, {A} stayed up updating a CV that had not been touched in years.
Just as a precaution, {A} dusted off the old résumé and polished it until midnight.

Behind the cheerful façade of the town hall, {A} found a council in complete disarray.
{A} soon learned that the bright front of the municipal building hid a council in chaos.
The council was a mess, {A} discovered, whatever the handsome façade of the town hall suggested.

Years of life as a {role} had not prepared {A} for a day like this.
{A} reflected that no {role} could have been ready for such a week.
Being a {role} had taught {A} many things, but nothing about days like this one.

{A} and {C} repainted the shop sign, and the new letters dripped in the rain.
The sign over the shop got a fresh coat from {C} and {A}, which the shower promptly ran.
Rain ruined the lettering almost at once after {A} and {C} had redone the shopfront.

{B} taught {A} to play chess, and by the third game {A} was winning.
It took only three matches before {A} beat the teacher, {B}, at chess.
{A} learned the rules of chess from {B} one evening and won the third round outright.

A wedding band played in the square, and {A} danced with {B} until the lamps went out.
{B} pulled {A} into the dancing when musicians struck up in the square for a wedding.
The square filled with music from a marriage party, and {A} and {B} danced until the lights died.

{A} found a stray kitten in the rain and named it after the {obj}.
A soaked little kitten followed {A} home and was christened in honour of the {obj}.
{A} gave the drenched stray a name borrowed from the {obj}, which made {B} groan.
"""

_FILLERS_TEXT = """
The days in {place} were growing shorter, and the evenings smelled of woodsmoke.
Autumn was arriving in {place}, bringing early dusk and the scent of burning logs.
Woodsmoke hung in the air as the afternoons grew brief.

Gulls circled over the rooftops and argued loudly about nothing.
Overhead the seagulls wheeled and squabbled as if something important were at stake.
Noisy birds quarrelled above the chimneys all day long.

The kettle was always on, because {A} believed most problems looked smaller after tea.
{A} kept the kettle boiling, convinced that a cup of tea could shrink any trouble.
In the view of {A}, no difficulty survived a strong pot of Earl Grey, so the pot rarely cooled.

A church bell somewhere rang the hour, slightly out of tune as always.
Somewhere across town the slightly flat chime marked the time, just as it always did.
The off-key bell of the old chapel counted the hours as usual.

Nobody in {place} locked their doors, though everybody complained about burglars.
Doors in {place} stayed unlatched, even while people grumbled endlessly about thieves.
Everyone worried about robbers, yet not one house had its entrance bolted.

Rain had been falling on and off for a week.
For seven days the weather had alternated between drizzle and downpour.
It had poured, stopped, and poured again every day that week.

The bakery on the corner sold out of bread by nine every morning.
By nine o'clock each day, the corner shop had nothing left on its shelves.
Anyone wanting a loaf had to reach the baker's at the junction before nine.

{A} kept a diary but only ever wrote in it on Sundays.
Sunday was the only day {A} opened the journal and added a few lines.
The notebook by the bed of {A} received new entries once a week, on Sunday evenings.

The town clock had been five minutes fast for as long as anyone could remember.
For decades the clock on the square had run five minutes ahead of the real time.
Everyone in {place} knew to subtract a few minutes from the tower on the plaza.

A radio in the next flat played old dance music late into the night.
Next door, someone listened to ballroom tunes on the wireless until very late.
Old-fashioned waltzes drifted through the wall from the neighbours each night.

The streets smelled of salt and fried fish whenever the wind came off the sea.
Whenever the breeze blew in from the water, the lanes filled with the aroma of brine and chips.
A sea gust brought the tang of the ocean and frying haddock into every alley.

Summer tourists had gone, and {place} belonged to its own people again.
With the visitors departed for the year, the locals had {place} to themselves once more.
{place} felt like home again now that the holiday crowds had left.

{A} had a habit of humming while thinking, which drove {B} slightly mad.
Whenever {A} was deep in thought, a tuneless drone began, and it irritated {B} no end.
{B} found it maddening that {A} hummed constantly during any moment of reflection.

Outside the window a neighbour's washing flapped like a row of flags.
Laundry on the line next door snapped in the wind like bunting.
Across the yard, somebody's sheets and shirts fluttered like festival banners.

The café on the square served a café au lait that everyone pretended to dislike.
Everyone claimed to hate the milky coffee at the little place on the plaza, yet they all drank it.
People grumbled about the café au lait in the square but ordered it every day.

Prices at the shop had gone up again, and everyone had something to say about it.
Once more the grocer raised the cost of everything, and the whole street complained.
The store had put its charges up again, giving the town a fresh topic for grumbling.
"""

_CLOSINGS_TEXT = """
In the end, {A} decided that some stories are better left unfinished.
{A} concluded, at last, that not every tale needs an ending.
Some accounts, {A} finally decided, should be allowed to stay open.

When spring came to {place}, {A} and {B} were still laughing about it.
Even months later, with blossom in {place}, {B} and {A} could not mention it without giggling.
The memory still made {A} and {B} chuckle when the first flowers appeared.

It was not the ending {A} had planned, but it was a good one.
Things had not finished the way {A} intended, yet the result was better than expected.
{A} had imagined a different conclusion, though this one turned out fine.

{A} wrote it all down that night, so that nobody would ever forget.
That evening every detail went into the notebook of {A}, to be remembered forever.
Before sleeping, {A} recorded the whole affair on paper so it would never be lost.

And every year after that, on the same day, {A} baked a cake in memory of it.
From then on, {A} marked the anniversary each year with a homemade sponge.
A gateau appeared on the table of {A} on that date every year afterwards.

{place} never quite went back to the way it had been before.
Afterwards, life in {place} was never entirely the same again.
Something in {place} had changed for good, and everyone could feel it.

{A} smiled, switched off the light, and slept better than in years.
That night, for the first time in ages, {A} fell asleep grinning.
With the lamp turned off and a smile still in place, {A} enjoyed the best rest in a decade.

Years later, {B} would still tell the story at every wedding and funeral.
{B} went on telling the tale for decades, at weddings and wakes alike.
No family gathering passed without {B} recounting the whole episode yet again.

Sometimes, {A} thought, the smallest changes are the ones that matter most.
{A} realised that the little shifts were often the ones that counted.
What mattered most, {A} came to believe, were the tiny turns in life rather than the grand ones.

The {obj} stayed on the mantelpiece from then on, where everyone could see it.
From that day the {obj} had a place of honour above the fireplace.
{A} set the {obj} above the hearth, and there it remained for good.
"""


def _blocks(text: str) -> list[tuple[str, ...]]:
    """Split a template text into blocks of phrasings (one block per blank-line-separated group)."""
    return [tuple(block.strip().splitlines()) for block in text.strip().split("\n\n")]


def _build_templates() -> tuple[dict[str, tuple[str, ...]], list[tuple[str, str]]]:
    """All templates by key ("open:3", "ib:0", "ic:1", "ev:42", "fill:5", "close:2"), and premises."""
    templates: dict[str, tuple[str, ...]] = {}
    premises: list[tuple[str, str]] = []
    for i, block in enumerate(_blocks(_PREMISES_TEXT)):
        prompt, role = (part.strip() for part in block[0].split("|"))
        premises.append((prompt, role))
        templates[f"open:{i}"] = block[1:]
    for prefix, text in (
        ("ib", _INTRO_B_TEXT),
        ("ic", _INTRO_C_TEXT),
        ("ev", _EVENTS_TEXT),
        ("fill", _FILLERS_TEXT),
        ("close", _CLOSINGS_TEXT),
    ):
        for i, block in enumerate(_blocks(text)):
            templates[f"{prefix}:{i}"] = block
    return templates, premises


_TEMPLATES, _PREMISES = _build_templates()
PROMPTS: tuple[str, ...] = tuple(prompt for prompt, _ in _PREMISES)


def _keys(prefix: str) -> tuple[str, ...]:
    return tuple(key for key in _TEMPLATES if key.startswith(prefix + ":"))


_INTRO_B_KEYS = _keys("ib")
_INTRO_C_KEYS = _keys("ic")
_EVENT_KEYS = _keys("ev")
_FILLER_KEYS = _keys("fill")
_CLOSING_KEYS = _keys("close")
_NEEDS_C = frozenset(key for key, variants in _TEMPLATES.items() if any("{C}" in v for v in variants))
_EVENT_KEYS_NO_C = tuple(key for key in _EVENT_KEYS if key not in _NEEDS_C)

# Synonyms for common words: used to reword retellings and for near-copy replacements. A word and
# its synonyms start alike (vowel or consonant) where they can follow "a"/"an".
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "said": ("remarked", "declared"),
    "small": ("little", "tiny"),
    "little": ("small", "tiny"),
    "old": ("ancient",),
    "quickly": ("swiftly", "hastily"),
    "quietly": ("softly", "silently"),
    "walked": ("strolled", "wandered"),
    "house": ("home", "cottage"),
    "street": ("road", "lane"),
    "streets": ("roads", "lanes"),
    "friend": ("companion", "pal"),
    "tired": ("weary", "sleepy"),
    "laughed": ("chuckled", "giggled"),
    "smiled": ("grinned", "beamed"),
    "finally": ("at last", "eventually"),
    "decided": ("resolved",),
    "found": ("discovered", "located"),
    "bought": ("purchased", "picked up"),
    "carefully": ("gently", "cautiously"),
    "strange": ("peculiar", "curious"),
    "beautiful": ("lovely", "pretty"),
    "hurried": ("rushed", "dashed"),
    "remembered": ("recalled", "recollected"),
    "town": ("village", "borough"),
    "cold": ("chilly", "freezing"),
    "quiet": ("silent", "hushed"),
    "silent": ("quiet", "hushed"),
    "nearly": ("almost", "practically"),
    "almost": ("nearly", "practically"),
    "later": ("afterwards", "subsequently"),
    "everyone": ("everybody",),
    "everybody": ("everyone",),
    "window": ("casement",),
    "letter": ("note", "message"),
    "money": ("cash", "funds"),
    "job": ("task", "work"),
    "empty": ("vacant", "bare"),
    "hidden": ("concealed", "tucked away"),
    "big": ("large", "huge"),
    "large": ("big", "huge"),
    "terrible": ("dreadful", "awful"),
    "dreadful": ("terrible", "ghastly"),
    "polite": ("courteous", "civil"),
    "strong": ("powerful", "sturdy"),
    "began": ("started", "commenced"),
    "started": ("began", "commenced"),
    "complained": ("grumbled", "moaned"),
    "grumbled": ("complained", "moaned"),
    "arrived": ("turned up", "showed up"),
    "wanted": ("wished", "longed"),
    "hill": ("slope", "rise"),
    "sea": ("ocean",),
    "rain": ("drizzle", "showers"),
    "news": ("tidings", "word"),
    "stranger": ("newcomer", "passer-by"),
    "shop": ("store", "boutique"),
    "speech": ("talk", "toast"),
    "trouble": ("bother", "difficulty"),
    "children": ("kids", "youngsters"),
    "story": ("tale", "yarn"),
    "stories": ("tales", "yarns"),
    "garden": ("yard", "plot"),
    "simply": ("just", "merely"),
    "suddenly": ("abruptly", "all at once"),
    "completely": ("entirely", "utterly"),
    "entirely": ("completely", "wholly"),
}

# Near copies may also swap these small words (the result need not be elegant, only close).
_REPLACEMENTS: dict[str, tuple[str, ...]] = {
    **_SYNONYMS,
    "the": ("this", "that"),
    "and": ("and then", "and so"),
    "was": ("seemed",),
    "a": ("one",),
    "but": ("yet",),
}

_INSERT_WORDS: tuple[str, ...] = _list("really, quite, then, still, just, simply, perhaps, certainly, also")

_WORD_RE = re.compile(r"\w+")
_LETTERS_RE = re.compile(r"[^\W\d_]+")
_TOKEN_RE = re.compile(r"\S+")
_CORE_RE = re.compile(r"^(\W*)(.*?)(\W*)$", re.S)


# --------------------------------------------------------------------------------------------
# Similarity


def _word_ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    words = _WORD_RE.findall(unicodedata.normalize("NFC", text).casefold())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def word_ngram_jaccard(a: str, b: str, n: int = 5) -> float:
    """Jaccard similarity of the word n-gram sets of two texts (NFC, casefolded, ``\\w+`` words).

    >>> word_ngram_jaccard("one two three four five six", "One, two, three, four, five, six, seven, eight!")
    0.5
    """
    ga, gb = _word_ngrams(a, n), _word_ngrams(b, n)
    if not ga and not gb:
        return 1.0
    return len(ga & gb) / len(ga | gb)


# --------------------------------------------------------------------------------------------
# Stories

Plan = list[list[tuple[str, int]]]  # paragraphs of (template key, phrasing index)


@dataclass
class _Story:
    prompt: str
    slots: dict[str, str]
    plan: Plan
    names: tuple[str, ...]  # first names of the characters, in role order (A, B[, C])


def _with_article(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def _template(key: str, variant: int, slots: dict[str, str]) -> str:
    """A plan entry's sentence template: a shared one, or the story's own detail (``detail:N``)."""
    return slots[key] if key.startswith("detail:") else _TEMPLATES[key][variant]


def _render(plan: Plan, slots: dict[str, str]) -> str:
    return "\n\n".join(
        " ".join(_template(key, variant, slots).format_map(slots) for key, variant in paragraph)
        for paragraph in plan
    )


# A story's own details: two sentences composed from these lists, so that two stories rarely tell
# the same one. A retelling keeps them nearly whole, as LLM rewrites keep a sentence or two, while
# every shared template sentence is rephrased.
_DETAIL_FORMS = (
    "{{A}} {verb} the {adj} {thing} by the {spot}, {clause}.",
    "Years later, {{A}} would still talk about the {adj} {thing} on the {spot}, {clause}.",
    "It was at the {spot}, {clause}, that {{B}} first noticed the {adj} {thing}.",
    "Nobody but {{B}} knew that the {adj} {thing} had come from the {spot}, {clause}.",
    "The {thing}, {adj} and older than anyone could say, waited at the {spot} {clause}.",
    "{clause_cap}, {{A}} and {{B}} {verb} a {adj} {thing} behind the {spot}.",
    "Of everything at the {spot}, {{B}} loved the {adj} {thing} best, {clause}.",
    "A {adj} {thing} sat on the {spot} for weeks, {clause}, before {{A}} dared touch it.",
)
_DETAIL_WORDS = {
    "verb": _list("found, hid, mended, buried, polished, traded, dropped, painted, wrapped, carried, sold"),
    "adj": _list(
        "chipped, brass, faded, crooked, velvet, rusted, painted, silver, wooden, tattered, cracked, "
        "enamel, copper, woollen, lacquered, ivory, tin, amber, striped, knitted, gilded, marble"
    ),
    "thing": _list(
        "lantern, teapot, compass, music box, umbrella, birdcage, pocket watch, kite, globe, typewriter, "
        "accordion, chess set, telescope, rocking chair, suitcase, harmonica, weathervane, snow globe, "
        "hourglass, sewing tin, gramophone, fishing rod, bicycle bell, inkwell"
    ),
    "spot": _list(
        "attic stairs, cellar door, harbour wall, bakery window, train platform, lighthouse steps, "
        "greenhouse, market stall, chapel steps, ferry deck, orchard gate, library ladder, tram stop, "
        "boathouse, bell tower, canal bridge, laundry line"
    ),
    "clause": _list(
        "where the gulls argued every morning; just as the church clock struck eleven; "
        "while rain drummed on the tin roof; because nobody else would dare; "
        "though the hinges had long rusted shut; as the last tram rattled past; "
        "while a dog barked somewhere below; an hour before the tide came in; "
        "as snow began to fall on the square; while the radio played an old waltz; "
        "the week the river froze; on the morning of the first frost; "
        "when the swallows left for the south; the summer the mill burned down; "
        "while the kettle whistled on the stove; after the fair had packed up and gone; "
        "the night the comet was meant to pass; while the neighbours argued about the fence; "
        "on the day the postman retired; when the old ferry still ran twice a day",
        sep=";",
    ),
}


def _detail(rng: random.Random) -> str:
    form = rng.choice(_DETAIL_FORMS)
    words = {k: rng.choice(v) for k, v in _DETAIL_WORDS.items()}
    return form.format(**words, clause_cap=words["clause"][:1].upper() + words["clause"][1:])


def _word_count(text: str) -> int:
    return len(text.split())


def _sentence_count(plan: Plan) -> int:
    return sum(len(paragraph) for paragraph in plan)


def _pick_names(rng: random.Random, k: int, exclude: tuple[str, ...] = ()) -> list[str]:
    return rng.sample([name for name in FIRST_NAMES if name not in exclude], k)


def _make_slots(rng: random.Random, premise: int, n_chars: int, non_ascii: bool) -> dict[str, str]:
    """Draw names, place and props. With ``non_ascii``, at least one of them has non-ASCII letters."""
    names = _pick_names(rng, n_chars)
    surname = rng.choice(SURNAMES)
    place = rng.choice(PLACES)
    food = rng.choice(_FOODS)
    if non_ascii:
        choice = rng.randrange(3)
        if choice == 0:
            names[0] = rng.choice([n for n in FIRST_NAMES if not n.isascii() and n not in names[1:]])
        elif choice == 1:
            place = rng.choice([p for p in PLACES if not p.isascii()])
        else:
            surname = rng.choice([s for s in SURNAMES if not s.isascii()])
    obj, obj2 = rng.sample(_OBJECTS, 2)
    rel_b, rel_c = rng.sample(_RELATIONS, 2)
    return {
        "A": names[0],
        "Asur": surname,
        "B": names[1],
        "C": names[2] if n_chars > 2 else "",
        "place": place,
        "role": _PREMISES[premise][1],
        "obj": obj,
        "a_obj": _with_article(obj),
        "obj2": obj2,
        "a_obj2": _with_article(obj2),
        "food": food,
        "day": rng.choice(_DAYS),
        "relB": rel_b,
        "relC": rel_c,
    }


def _make_plan(rng: random.Random, premise: int, n_chars: int) -> Plan:
    """Opening, introductions, 5-8 events with 0-3 scene-setting sentences among them, closing."""

    def v(key: str) -> tuple[str, int]:  # a template with a random phrasing
        return key, rng.randrange(len(_TEMPLATES[key]))

    intro = [v(f"open:{premise}"), v(rng.choice(_INTRO_B_KEYS))]
    if n_chars > 2:
        intro.append(v(rng.choice(_INTRO_C_KEYS)))
    pool = _EVENT_KEYS if n_chars > 2 else _EVENT_KEYS_NO_C
    body = [v(key) for key in rng.sample(pool, rng.randint(5, 8))]
    room = 15 - len(intro) - len(body) - 1
    for key in rng.sample(_FILLER_KEYS, min(room, rng.randint(0, 3))):
        body.insert(rng.randint(0, len(body)), v(key))
    closing = v(rng.choice(_CLOSING_KEYS))
    cut = rng.randint(2, len(body) - 2)
    if rng.random() < 0.5:
        return [intro, body[:cut], [*body[cut:], closing]]
    return [intro + body[:cut], [*body[cut:], closing]]


def _pad(rng: random.Random, plan: Plan, slots: dict[str, str]) -> None:
    """Add scene-setting sentences to a short story until it has 120 words (at most 15 sentences)."""
    used = {key for paragraph in plan for key, _ in paragraph}
    spare = [key for key in _FILLER_KEYS if key not in used]
    rng.shuffle(spare)
    while _word_count(_render(plan, slots)) < 120 and spare and _sentence_count(plan) < 15:
        key = spare.pop()
        paragraph = plan[rng.randrange(1, len(plan))]
        paragraph.insert(rng.randrange(len(paragraph)), (key, rng.randrange(len(_TEMPLATES[key]))))


def _new_story(rng: random.Random, non_ascii: bool = False) -> _Story:
    """A fresh story: 8-15 sentences, 120-300 words, 2-3 characters (non-ASCII words if asked)."""
    while True:
        premise = rng.randrange(len(_PREMISES))
        n_chars = rng.choice((2, 3))
        slots = _make_slots(rng, premise, n_chars, non_ascii)
        plan = _make_plan(rng, premise, n_chars)
        for n in range(2):  # the story's own details, among its events
            slots[f"detail:{n}"] = _detail(rng)
            paragraph = plan[rng.randrange(1, len(plan))]
            paragraph.insert(rng.randrange(len(paragraph) + 1), (f"detail:{n}", 0))
        _pad(rng, plan, slots)
        text = _render(plan, slots)
        if not 8 <= _sentence_count(plan) <= 15 or not 120 <= _word_count(text) <= 300:
            continue
        if non_ascii and not _NON_ASCII_RE.search(text):
            continue
        names = (slots["A"], slots["B"], slots["C"]) if n_chars > 2 else (slots["A"], slots["B"])
        return _Story(_PREMISES[premise][0], slots, plan, names)


# --------------------------------------------------------------------------------------------
# Derivatives


def _match_case(word: str, model: str) -> str:
    if model.isupper() and len(model) > 1:
        return word.upper()
    if model[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def _swap_synonyms(text: str, rng: random.Random, p: float, protect: set[str]) -> str:
    """Replace words that have synonyms, each with probability ``p``; ``protect`` names stay."""

    def swap(m: re.Match[str]) -> str:
        word = m.group(0)
        options = _SYNONYMS.get(word.lower())
        if options is None or word in protect or rng.random() >= p:
            return word
        return _match_case(rng.choice(options), word)

    return _LETTERS_RE.sub(swap, text)


_EXACT_OPS = _list(
    "extra spaces, trailing newline, leading spaces, one word upper-cased, first sentence lower-cased, "
    "line breaks re-wrapped"
)


def _exact_copy(text: str, rng: random.Random) -> tuple[str, str]:
    """A verbatim copy (half the time), or one that differs only in case, whitespace and NFC/NFD."""
    if rng.random() < 0.5:
        return text, "verbatim copy"
    ops = list(_EXACT_OPS)
    if not text.isascii():
        ops.append("Unicode NFD")
    chosen = sorted(rng.sample(ops, rng.randint(1, 3)), key=ops.index)
    out = text
    for op in chosen:
        if op == "extra spaces":
            parts = out.split(" ")
            for i in rng.sample(range(1, len(parts)), min(len(parts) - 1, rng.randint(2, 6))):
                parts[i] = " " * rng.randint(1, 3) + parts[i]
            out = " ".join(parts)
        elif op == "trailing newline":
            out += "\n"
        elif op == "leading spaces":
            out = " " * rng.randint(1, 4) + out
        elif op == "one word upper-cased":
            words = [m for m in _LETTERS_RE.finditer(out) if len(m.group(0)) > 2]
            m = rng.choice(words)
            out = out[: m.start()] + m.group(0).upper() + out[m.end() :]
        elif op == "first sentence lower-cased":
            end = out.find(". ") + 1 or len(out)
            out = out[:end].lower() + out[end:]
        elif op == "line breaks re-wrapped":
            out = re.sub(r"\n\n", "\n", out)
            out = re.sub(r"\. ", lambda m: ".\n" if rng.random() < 0.3 else ". ", out)
        else:
            out = unicodedata.normalize("NFD", out)
    return out, "differs only in " + ", ".join(chosen)


def _split_token(token: str) -> tuple[str, str, str]:
    """(leading punctuation, word, trailing punctuation) of a whitespace-separated token."""
    m = _CORE_RE.match(token)
    assert m is not None  # the pattern matches any string
    pre, core, post = m.groups()
    return pre, core, post


def _edit_words(text: str, rng: random.Random, rate: float) -> tuple[str, str]:
    """Replace, delete or insert about ``rate`` of the words of ``text`` (never the first word)."""
    tokens = list(_TOKEN_RE.finditer(text))
    parts = [_split_token(t.group(0)) for t in tokens]
    candidates = {
        "replace": [i for i in range(1, len(tokens)) if parts[i][1].lower() in _REPLACEMENTS],
        "delete": [i for i in range(1, len(tokens)) if not parts[i][0] and not parts[i][2]],
        "insert": list(range(1, len(tokens))),
    }
    edits: dict[int, tuple[str, str]] = {}  # token index -> (op, new token text)
    counts = {"replace": 0, "delete": 0, "insert": 0}
    for _ in range(max(2, round(rate * len(tokens)))):
        op = rng.choice(("replace", "replace", "delete", "insert"))
        free = [i for i in candidates[op] if i not in edits]
        if not free:
            op, free = "insert", [i for i in candidates["insert"] if i not in edits]
        if not free:
            break
        i = rng.choice(free)
        pre, core, post = parts[i]
        if op == "replace":
            new = pre + _match_case(rng.choice(_REPLACEMENTS[core.lower()]), core) + post
        elif op == "delete":
            new = ""
        else:
            new = rng.choice(_INSERT_WORDS) + " " + tokens[i].group(0)
        edits[i] = (op, new)
        counts[op] += 1
    out: list[str] = []
    last = 0
    for i in sorted(edits):
        op, new = edits[i]
        if op == "delete":  # drop the word and the whitespace before it
            out.append(text[last : tokens[i - 1].end()])
        else:
            out.append(text[last : tokens[i].start()] + new)
        last = tokens[i].end()
    out.append(text[last:])
    done = {"replace": "replaced", "delete": "deleted", "insert": "inserted"}
    desc = ", ".join(f"{n} {'word' if n == 1 else 'words'} {done[op]}" for op, n in counts.items() if n)
    return "".join(out), f"{desc} ({100 * len(edits) / len(tokens):.1f}% of {len(tokens)} words)"


def _near_copy(story: _Story, text: str, rng: random.Random) -> tuple[str, str]:
    """Light edits (1-4% of words) or one appended sentence; Jaccard with the original 0.72-0.95,
    above the default near threshold (0.7), so every planted near copy is one retold should find."""
    if rng.random() < 0.75:
        rate = rng.uniform(0.01, 0.04)
        for _ in range(12):
            new, desc = _edit_words(text, rng, rate)
            j = word_ngram_jaccard(text, new)
            if 0.72 <= j <= 0.95:
                return new, f"{desc}, word 5-gram Jaccard {j:.2f}"
            rate = rate * 0.75 if j < 0.72 else rate * 1.3
    used = {key for paragraph in story.plan for key, _ in paragraph}
    key = rng.choice([k for k in _FILLER_KEYS + _EVENT_KEYS_NO_C if k not in used])
    sentence = rng.choice(_TEMPLATES[key]).format_map(story.slots)
    new = text + " " + sentence
    return new, f"one sentence appended, word 5-gram Jaccard {word_ngram_jaccard(text, new):.2f}"


def _retell(story: _Story, text: str, rng: random.Random) -> tuple[str, str]:
    """Same plan, other names (place too, half the time), other phrasings, synonym swaps."""
    best: tuple[float, str, str] | None = None
    for _ in range(5):
        slots = dict(story.slots)
        new_names = _pick_names(rng, len(story.names), exclude=story.names)
        renames = []
        for role, old, new in zip(("A", "B", "C"), story.names, new_names, strict=False):
            slots[role] = new
            renames.append(f"{old}→{new}")
        slots["Asur"] = rng.choice([s for s in SURNAMES if s != story.slots["Asur"]])
        renames.append(f"{story.slots['Asur']}→{slots['Asur']}")
        if rng.random() < 0.5:
            slots["place"] = rng.choice([p for p in PLACES if p != story.slots["place"]])
            renames.append(f"{story.slots['place']}→{slots['place']}")
        # as an LLM rewrite does: the story's own details kept nearly whole (names swapped), every
        # other sentence in another phrasing with common words swapped for synonyms
        protect = {slots[k] for k in ("A", "B", "C", "Asur", "place")}
        paragraphs, kept = [], 0
        for paragraph in story.plan:
            told = []
            for key, v in paragraph:
                if key.startswith("detail:"):
                    told.append(_template(key, v, slots).format_map(slots))
                    kept += 1
                    continue
                other = rng.choice([i for i in range(len(_TEMPLATES[key])) if i != v])
                told.append(_swap_synonyms(_TEMPLATES[key][other].format_map(slots), rng, 0.7, protect))
            paragraphs.append(" ".join(told))
        new = "\n\n".join(paragraphs)
        j = word_ngram_jaccard(text, new)
        note = f"renamed {', '.join(renames)}; {kept} sentences kept, the rest rephrased; word 5-gram Jaccard {j:.2f}"
        if best is None or j < best[0]:
            best = (j, new, note)
        if j < 0.3:
            break
    assert best is not None
    return best[1], best[2]


def _mojibake(text: str, rng: random.Random) -> tuple[str, str]:
    """Encode as UTF-8 and decode as mac_roman or cp1252: the whole text, or one non-ASCII word."""
    codec = rng.choice(("mac_roman", "cp1252"))
    whole = rng.random() < 0.5

    def damage(s: str) -> tuple[str, str]:
        try:
            return s.encode("utf-8").decode(codec), codec
        except UnicodeDecodeError:  # cp1252 leaves 0x81, 0x8D, 0x8F, 0x90, 0x9D undefined
            return s.encode("utf-8").decode("mac_roman"), "mac_roman"

    if whole:
        out, used = damage(text)
        return out, f"whole text UTF-8 decoded as {used}"
    m = rng.choice(list(_NON_ASCII_RE.finditer(text)))
    bad, used = damage(m.group(0))
    note = f"one word ({m.group(0)!r} → {bad!r}) UTF-8 decoded as {used}"
    return text[: m.start()] + bad + text[m.end() :], note


# --------------------------------------------------------------------------------------------
# The corpus


def _build(n_stories: int, seed: int) -> tuple[list[dict], list[Planted], dict[str, str]]:
    if n_stories < 1:
        raise ValueError(f"n_stories must be at least 1, got {n_stories}")
    rng = random.Random(seed)
    stories = [_new_story(rng) for _ in range(n_stories)]
    ids = [f"story-{i + 1:04d}" for i in range(n_stories)]
    # each original in its own words: common words swapped for synonyms, so that two originals
    # drawn from one template rarely share a sentence word for word (unrelated stories do not)
    texts = [
        _swap_synonyms(
            _render(s.plan, s.slots), rng, 0.7, {s.slots[k] for k in ("A", "B", "C", "Asur", "place")}
        )
        for s in stories
    ]
    records = [{"id": i, "text": t, "prompt": s.prompt} for i, t, s in zip(ids, texts, stories, strict=True)]
    truth: list[Planted] = []
    clean: dict[str, str] = {}

    k = max(1, round(0.1 * n_stories))
    exact_src = rng.sample(range(n_stories), k)
    near_src = rng.sample(range(n_stories), k)
    # Some originals get both a near copy and a retelling; the rest of the retellings come from
    # originals without a near copy, where there are enough of them.
    both = near_src[: max(1, k // 3)]
    near_set, both_set = set(near_src), set(both)
    others = [i for i in range(n_stories) if i not in near_set]
    if len(others) < k - len(both):
        others = [i for i in range(n_stories) if i not in both_set] or list(range(n_stories))
    retold_src = both + rng.sample(others, min(k - len(both), len(others)))
    while len(retold_src) < k:  # only for tiny corpora
        retold_src.append(rng.randrange(n_stories))

    def plant(kind: str, prefix: str, n: int, src: int | None, text: str, prompt: str, note: str) -> None:
        doc_id = f"{prefix}-{n:04d}"
        records.append({"id": doc_id, "text": text, "prompt": prompt})
        truth.append(Planted(doc_id, kind, None if src is None else ids[src], note))

    for n, i in enumerate(exact_src, 1):
        text, note = _exact_copy(texts[i], rng)
        plant("exact", "exact", n, i, text, stories[i].prompt, note)
    for n, i in enumerate(near_src, 1):
        text, note = _near_copy(stories[i], texts[i], rng)
        plant("near", "near", n, i, text, stories[i].prompt, note)
    for n, i in enumerate(retold_src, 1):
        text, note = _retell(stories[i], texts[i], rng)
        plant("retold", "retold", n, i, text, stories[i].prompt, note)
    for n in range(1, k + 1):
        story = _new_story(rng, non_ascii=True)
        good = _render(story.plan, story.slots)
        bad, note = _mojibake(good, rng)
        plant("mojibake", "moji", n, None, bad, story.prompt, note)
        clean[truth[-1].id] = good

    rng.shuffle(records)
    return records, truth, clean


def generate_corpus(n_stories: int = 200, seed: int = 0) -> tuple[list[dict], list[Planted]]:
    """Return (records, truth). records: dicts {"id": str, "text": str, "prompt": str}, in a
    shuffled (seeded) order; truth: one Planted per planted document.

    There are ``n_stories`` originals (``story-0001``, ...) and about 10% of ``n_stories`` (at
    least one) of each planted kind: ``exact-0001``, ``near-0001``, ``retold-0001``, ``moji-0001``.

    >>> records, truth = generate_corpus(20, seed=1)
    >>> len(records), len(truth), sorted({p.kind for p in truth})
    (28, 8, ['exact', 'mojibake', 'near', 'retold'])
    """
    records, truth, _ = _build(n_stories, seed)
    return records, truth


def clean_texts(n_stories: int = 200, seed: int = 0) -> dict[str, str]:
    """The undamaged text of each mojibake document of ``generate_corpus(n_stories, seed)``, by id."""
    return _build(n_stories, seed)[2]


def main(argv: list[str] | None = None) -> None:
    """Write the corpus as JSON lines to stdout: ``python -m retold.demo.generator [N [SEED]]``."""
    args = sys.argv[1:] if argv is None else argv
    n_stories = int(args[0]) if args else 200
    seed = int(args[1]) if len(args) > 1 else 0
    records, _ = generate_corpus(n_stories, seed)
    for record in records:
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

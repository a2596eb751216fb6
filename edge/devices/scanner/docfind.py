"""Finding a sheet of paper in a document-camera photo: its four corners, for perspective correction.

The textbook finder (Canny, then the largest contour with four corners) needs a closed, high-contrast
outline, which a white page on a light desk, a shadow across the page or a paper under it does not
give. This finder works with straight lines instead of closed outlines and decides with evidence
measured along each candidate side:

1. The photo is reduced to about 640 px and looked at twice: as it is, and through a 9 px median
   (issue 17), which removes what is thinner than 4-5 px: text, wood grain's late-wood lines and pores,
   a weave, thin stripes; a page's edge, a step between two large regions, stays where it is. Edges
   are found on the colour gradient of log intensity, so a page edge keeps its strength inside a
   shadow (a shadow multiplies the light; the log of a product is a sum, and the sum cancels in a
   difference).
2. Connected edge chains are cut into straight segments; collinear segments merge into lines (a side
   broken by a shadow, a pen or a fold is still one line). Text makes short segments and drops out. A
   side that stripes or checks touch all along is broken into pieces too short for that; a
   probabilistic Hough transform bridges the gaps and adds those lines. Where one direction dominates the
   edges (stripes, grain), it runs again without them, and a bridge counts only where the edge's own
   gradient is across it (on fine stripes it otherwise bridges across the stripes in any direction).
3. For every line the step across it is sampled along its whole length once; a cumulative sum then
   gives the share of any stretch of it that is a real step, in O(1). Grain and stripes make many long
   lines, so the lines searched are picked three ways in turn: the longest, those with the most length
   of consistent step, and those with most step that are not one of a family of parallels.
4. Every four lines that can form a convex quadrilateral are scored at once (numpy): the share of
   the perimeter that is a step with the page on the same side (brighter, or darker, all round),
   the weakest side, and a preference for larger pages (a table, a photo or a band inside the page
   outlines a smaller quad). A thin printed frame inside a form is a ridge, not a step, and does not
   count; a checked cloth changes sign along a line and does not count either. The flank of a thick
   frame or a bold rule looks like a step up close, so the step is measured again twice as far out:
   where the far side is back at the other side's near level (paper, ink, paper) it is a ridge.
   The leading 60 are checked again with wider evidence: 6 px inside must differ from both 5 and
   10 px outside all along each side. Where a lamp's reflection blows out both sides of a side (BLIND px
   all round), nothing can be seen: both shares are taken over the rest of the side (at least SEEN_SHARE).
5. The winner grows past an inner edge: an ID card's band, a letterhead band or a long text row
   outlines part of the page well. When both neighbouring sides carry on, with the strip between
   one region, to another line, the side moves out to it (``_extend``). Not when the strip is a piece of the desk: every
   colour in it is one of the desk's around it (``_desk_strip``, 2026-12-06 night, finder-cloth: an argyle's line or a
   leaf print's edge beyond a page's side steps consistently too), nor when the strip is as rough as a textured desk
   beside it (``_rough_as_desk``, 2026-12-07, finder-t3cloth: a strip of vinyl tiles of another inked patch).
6. Region candidates: the median view is split into four colour clusters (k-means in Lab at 160 px);
   each solid, convex region is simplified to four corners and judged with the same evidence as the
   line search's quads. This finds the page as a region where its sides are too broken to be lines.
7. Smooth-region candidates (issue 17, 2026-12-05): paper is flat once its print is gone, where grain,
   a weave or stripes are not, whatever their colours. The smooth mask of the median view (gradient
   below FLAT_GRADIENT) is taken to 320 px, opened and closed, and also averaged (the smooth share
   around each pixel: a page full of print keeps only slivers of margin); where most of the photo is
   smooth (faint stripes), a stricter level is looked at too. Each region's hull becomes four corners,
   and each side is polished: both its ends move along its normal over a grid (15 % of the side, then
   finer), and the line with the most consistent step wins. This finds a page on stripes whose sides
   no line search keeps (the stripes' own lines crowd them out). When the line search's winner is
   already sure (SURE), the smooth regions are not looked at (time: a quarter of the median).
8. Paper is flat: every candidate's rank is multiplied by the fourth power of the smooth share of the
   ring just inside its sides (in the median view), up to FLAT_PAPER (a page is at least that flat;
   above it flatness no longer ranks, or an ID card's photo block would lose to a plain note), which
   sinks a quad that four lines of a checked cloth or a plank seam outline around (or beside) the
   page. The best rank over both views and the region candidates wins; when the texture-free view
   (looked at first) is already sure (SURE), the other is skipped, which halves the median time. A
   winner inside a larger candidate that is nearly as well outlined (CONTAIN_SCORE of its near-step
   score and confidence) gives way to it: a smooth region finds the lit part of a page or a card's
   body exactly, and the page around it is the answer. Not when what it adds is the desk's colour (``_desk_between``,
   2026-12-06, occluder): a plank's seam beyond the page's side outlines a wedge of wood around a page whose outline
   a hand has lowered.
   A winner three of whose sides lie on three sides of a candidate around it as well outlined (near-step score and the
   wide check on every side), but less flat, is a band at the end of a card whose body is a fine print no view takes
   away (a guilloche mesh): the card is the answer, asked unless better outlined (``_band_end``, 2026-12-07,
   finder-conf3, framed/1004). Where such a candidate, at least twice the winner's area, is outlined less well (dense
   print under a ruled line breaks a page's lower sides), the winner (the page's blank upper half) is asked.
   The winner then grows past an inner edge once more (``_grow``, 2026-12-05), the new side searched
   directly over pairs of positions along its neighbours rather than among the lines kept (on a checked
   cloth the side of an ID card's body seldom is one of them): the strip must be outlined by consistent
   steps, a third of it calm and its three outer sides different from the desk well beyond them (a
   card's body beyond its band, a page's shaded fold beyond its lit part), and not a piece of the desk
   (``_desk_strip``, as in step 5; 2026-12-07: a strip of vinyl tiles, calm between their thin lines).
   A strip whose outline steps both ways (a card's band or a shaded fold between a cloth's stripes or
   checks, darker than some and brighter than others) may be grown over too when it is calmer
   (GROW_CALM_MIXED); the far edges the neighbours' extensions cross are tried besides a regular grid
   (2026-12-05, fifth session). A strip that is calm along its new side (GROW_CALM_ALONG, in the texture-free
   view) is paper too: a curled end shaded under right-aligned print changes across the fold only (2026-12-06).
   Where a hand's fingers or a phone lie over one of the strip's two extended sides, the samples of it without a step
   whose inside is neither the paper nor the desk seen along the rest of it are hidden, and that side's wide check is
   taken over what can be seen (``_hidden_wide``, 2026-12-06, occluder).
   A candidate with a corner sharper than PAGE_ANGLE (or blunter than its complement) is no sheet seen
   from above; a candidate around the winner that is better outlined is the page however little larger.
   A candidate whose inside is mostly blown out (every channel clipped) and whose sides are ramps is a
   lamp's reflection, not a page (``_glare``).
   When the views leave it unsure (below SURE), a coarse view at half the working size is searched too, its
   best quad judged at working size like the others: a fine check or stripes under motion blur break a page's
   sides into pieces at every stripe at working size, and average out at half of it (2026-12-06). Where its
   winner is the first look's answer (corners within COARSE_SAME), it keeps the first look's confidence.
   The quiet regions are looked at too when unsure (``_quiet_quads``, 2026-12-06): where the view as it is has edges
   nearly everywhere (QUIET_BUSY of it within QUIET_REACH of one: a fine stripe or check), the paper is the one
   region free of them but for its print. The stripes run up to a page and turn there, so its sides are no edge at
   all and no line search keeps them; the quiet pieces (margins, the spaces between lines of print) lying close
   together are grouped, and each group's hull, as it is and polished near and far, is judged in the view as it is. A
   quiet region inside an answer already outlined as a page (CONFIDENT) is its inner part (a card's panel) and not
   looked at. A quiet region that wins gives way to a candidate of the outline searches around it whose sides
   are steps at least as good (``_outline_around``, 2026-12-06): a document's printed body inside its plain rim
   is as free of edges as paper, and flatter, so surer; the outline tells the paper's edge from the print's. A
   quiet region that is no page by its own confidence (below NO_PAGE: a lit patch of desk, flat, outranks a page full
   of print) does not displace a page, and where the steps are amplified (below) one that is not crisp is not looked
   at: the answer there must be crisp, and dropping it dropped the page it had displaced (2026-12-06, framed/1044).
   A quiet region inside an unsure answer does not replace it when the band between them is paper (``_rim_between``:
   wide enough to measure, QUIET_BAND, and unlike the desk beyond the answer): the quiet region is then a document's
   printed body inside its plain rim, not the page inside a stripe or a patch of desk the answer took.
   An answer below NO_PAGE that is outlined as a page all round (near-step score and every side's wide check at
   least PRINTED_OUTLINE) with a rim just inside it paler than the print within (PRINTED_PALER) is a page full of
   print, not flat: kept at NO_PAGE, asked (``_printed_page``, 2026-12-06, framed/1048); print is ink on paper, while a
   keyboard, as well outlined and as busy, has a bezel darker than its keys. It is refined as a faint page is (step 9).
   Still unsure (below CONFIDENT) on a textured desk (CLOTH_ROUGH in the border band), the regions off the cloth's
   colours are looked at (``_cloth_regions``, 2026-12-07, finder-region): averaged over CLOTH_WINDOW px a cloth's
   stripes or checks are mixtures of its colours, along one line in Lab; a receipt full of blurred print lies off it.
   Each region off that line, as it is and polished, with every side's wide check at least CLOTH_SIDES, is weighed as
   the others; an unsure winner inside one outlined all round (CLOTH_OUTLINE, CLOTH_WIDE_MIN) gives way to it, asked
   (``_cloth_around``: blurred print reaches the margins, so a flat block of the receipt or a patch of cloth inside it
   outranks it by flatness).
   When nothing is found, the search runs again with the steps amplified (LOW_CONTRAST_GAIN): a pale
   receipt of nearly the desk's colour. The gain lifts a mottled desk too, so that answer counts only
   when it is page-shaped and its sides are steps, not ramps (``_crisp``). It is looked at too when the first answer
   is weak (below FAINT_WEAK) and all its sides are ramps: a crisp amplified answer apart from it replaces it, asked
   (``_faint_instead``, 2026-12-07, finder-arabic12: a white page on a pale polka-dot cloth, its strip taken).
   A pale page's edge often shows as a thin
   shadow deeper than the step itself, so the change next to the side overshoots the desk-to-paper change; such a side
   is a step too when the desk beyond the rim and the paper inside are flat (``_rimmed``, 2026-12-06, motion/1027).
   A side across strong motion blur is a ramp over the blur's length (up to ~10 px): it is a step too when the change
   falls within BLUR_REACH of it and both its neighbours, along the motion, are steps (``_blurred_steps``, 2026-12-07,
   finder-scan12, tune3 motion/1119: a pale receipt at the photo's border, "no page").
   A side of the winner that is a ramp while the others are steps (a fold's shading, a reflection's rim)
   is moved out onto the crisp edge beside it when the strip taken in is calm paper (``_unramp``).
   A side along which something neither paper nor desk lies (a phone, a hand) and which is not paper inside and desk
   outside nearly all along may be an object's straight edge taken for it: lines around it are scored by that share
   over what an object hides (the longest stretch with the same colour, neither paper nor desk, either side of the
   line); the best moves the side onto the page's edge (``_under_object``, 2026-12-07, occluder) when that stretch
   ends in a step along the line at both ends, an object's own edge (a soft shadow's or a shaded desk's end is a
   ramp: ``_object_ends``, finder-occl2).
9. The winner's sides are refined on the full-resolution photo: along each side the outermost strong
   step (a printed frame just inside is often stronger) within a couple of working pixels or 3 % of
   the side (a bowed page's side strays that far from its chord), at the middle of its gradient lobe
   (a motion-blurred edge is a ramp, its gradient a plateau), not on a printed line's inner flank (a
   rise just after a fall), fitted robustly with a line, or a
   parabola where that fits clearly better (the line's first fit takes only the rows within NEAR_REACH
   of the side found at working size: text along a side or a stripe beside it does not pull it off); a
   wavy side is fitted again on its 30 % next to each corner. For a faint page (amplified) or one full of print
   (``_printed_page``) the step's direction is taken next to the side found, paper against desk, not towards the
   print inside, and "a good part of the row's strongest" is of the strongest step within NEAR_REACH of that side
   (2026-12-06, framed/1048): the paper/desk step there is the page's edge, the print's a little inside it far
   stronger, and measured against the print's the rim's edge fell under OUTERMOST. Where the inside quarter of the
   reach is ink (a dark frame printed inside a white receipt on a pink desk) and the step next to the side found goes
   the other way from it, that step's colour sets the direction (``_near_direction``, 2026-12-07, finder-motion2):
   white against pink is no rise along navy against pink. The corners are where
   neighbouring fits meet: a curled page's physical corners, not where its chords would cross.
   Where the refinement moved a corner, the refined answer is grown once more (``_regrow``, as in step 8): a
   side pulled off by a pen or a hand at working size points its extension off a card's band, which the growth
   step then missed; refined, it points true. Only a band or a fold is taken so (CONTAIN_GROW to REGROW_AREA more),
   not a mat nor a folder's strip beyond one side; the grown answer is checked for a seam again.
   An unsure answer outlined all round at working size (every side's wide check CLOTH_WIDE_MIN, in the view as it
   is) keeps its sides when the refinement loses most of its step there (REFINED_KEPT of its near-step score, the wide
   mean falling too): on a check under motion blur the outermost strong step near a receipt's side is often the next
   check's line (``_refined_off``, 2026-12-07, finder-region).

10. (2026-12-06, after the real photos) A document's print often ends a few mm inside its edge in a strong step
   all round (a card's printed body, a certificate's band, a banknote's print, a form's ruled box): the quad inside
   is as well outlined as a page. Beyond each side of the winner, in the photo as it is, the lines stepping the same
   way along RIM_SHARE of them are found with a narrow step (``_beyond``). Where every side has one with a calm band
   of paper before it (within RIM_REACH of the span), the outermost such outline is the document's edge and the
   answer. Where a line lies close beyond every side otherwise, or a well-outlined quad encloses the winner (a photo
   block inside a card), the winner may be part of a document: its confidence is capped below CONFIDENT
   (FRAME_DOUBT). So is it when a side lies along the photo's border or a corner is beyond it (``_at_border``): the
   page may run on beyond the photo, or the border was taken for a side. And so is it when both sides meeting one
   side carry on past its corners as the same step with the same paper inside (``_carries_on``, 2026-12-06,
   finder-12mp): a row of print or a reflection's rim across a page ended the answer, not the page's edge; or when
   one of them goes on past its corner as a step the other way (a band's edge: the band darker than the desk, the
   body lighter), that corner out of a lamp's reflection's reach and the side's other corner within it (CARRY_REACH of
   the side from a blown-out pixel; 2026-12-06, finder-conf2): a card's body found without its band, whose other
   edge the reflection hides from the growth step. The band is seen on one of two lines just beyond the side, plain
   and of its colour (``_band_along``, 2026-12-07, finder-glare3: a row of print along the band breaks the other).
   Or when both go on as a step either way with the paper's colour
   inside and the desk's outside (``_carries_either``, 2026-12-07, finder-glare): a shade across a page flips its
   sides' step where the shaded paper is darker than the desk.
   Answers already asked (a rival's doubt, a line beyond) are looked at so too where something is blown out
   (``_asked_glare``, finder-glare12): a row of print above a reflection ends them as often. Grown only where
   FOLLOW_ASKED of the strip's part not blown out is the paper's colour (a cloth's white stripes are not).
   An answer asked so is grown along both neighbours to where they end (``_follow_on``, 2026-12-07, finder-glare2):
   each is followed past its corner as the same step with the same paper inside, through a lamp's reflection, and the
   new side joins their ends (in the reflection: as long as the other neighbour, or its middle) when the strip taken
   in is paper or blown out. The page's part beyond a row of print lies under the reflection, where ``_grow`` finds no
   far side. Or, with nothing blown out, when the side crossed is a shade's soft edge with the page's paper beyond
   (``_shade_edge``, 2026-12-07, finder-shade): a shadow across a portrait page ended the answer at its penumbra.
   And an answer that is the band at one end of a region smoother than
   the grained desk, of the desk's colour, within the photo and filling its hull's four corners, gives way to that
   region, asked (``_smooth_beyond``, 2026-12-06 night, finder-card and its review): a card's body of the wood's colour
   steps by nothing beyond its band, but paper is smooth where grain is not (not a board under a page, an envelope
   beside it, a desk out of focus, a cloth's ground between its print: none of these has the answer as its band).
   Where one side's rim is not calm (a stamp or a pen over it) while the other three are, of one colour, the line
   beyond it nearest their width closes the outline (``_covered_rim``, 2026-12-06 night, finder-cloth: a frame printed
   near a defocused page's edge on a leaf-print cloth).
   Where the quad enclosing the winner is well outlined and the band between them is a printed card's body (at least
   the winner's area, smooth in the texture-free view, with ink on it: ``_printed_band``, 2026-12-07, finder-print),
   that quad is the answer, asked: the winner is a photo block inside a card whose sides a polka-dot cloth scallops.
   A page on a larger sheet keeps the page: the sheet's rim beyond it is blank.
   Where the paper's colour goes on beyond two or more sides of the answer for a band and then steps to a flat desk
   far from it (``_paper_beyond``, ``_paper_rim``, 2026-12-07, finder-motion2), the answer is a frame printed a few mm
   inside the page, whose step merged with the page's edge under motion blur (so ``_beyond`` saw no line beyond it):
   those sides move out to the step, asked.

   An answer still asked about after these may have taken a wedge of grained desk beside one side (``_desk_wedge``,
   2026-12-07, finder-t2big): on planks a seam runs beside a white card's side, which steps little against maple,
   and the seam was the side. A side moved in onto a consistent step, cutting off a strip as grained as the desk
   around the answer and of its colours (paper, and a card's body of the wood's colour, are smooth), is the card's side.
   A confident answer goes there too where one side has the desk's colour just inside it along half of it at least
   (``_desk_inside``, a cheap gate; 2026-12-07, finder-occl5): cut there, it is asked (the search's score was the
   answer's with the wedge). Only where the side cut off goes on as a step past a corner (``_cut_goes_on``): a plank's
   seam runs on across the desk, a page's edge beside a band of wood printed on it ends at its corners.
   ``_desk_wedge`` cuts nothing on a printed cloth (WEDGE_SPREAD); there a confident answer whose side has, just inside,
   the desk's colour and the cloth's print colours (those beyond the sides) along most of it is asked, not cut
   (``_cloth_inside``, 2026-12-07, finder-occl6): a stripe beyond the page's side was taken for the side.

   A confident answer one of whose sides, refined at full resolution, is a ramp with a blown-out patch just inside it
   and none just outside is asked (``_glow_side``, 2026-12-07, finder-glare3): that side is a lamp's reflection's
   outer rim, where its glow over the desk fades, and the page's edge lies somewhere under the glow. Only where the
   glow is seen fading beyond that side, still bright 3 and 6 px out (``_glow_beyond``, finder-glow): a curled or
   defocused page's own edge beside a glare's patch falls to the desk within a few px.
   Not where the fade holds a step of GLOW_STEP of its fall within 2 px (``_edge_in_fade``, finder-glow2): a
   reflection straddling the page's side leaves the page's edge a step in its light, the glow going on beyond.
   A side whose patch begins further in (6 to GLOW_DEEP px) is a rim too where the fade still holds GLOW_NEAR of its
   fall at the side and GLOW_FAR 3 px out, with no step in it (``_glow_deep``, finder-glare12): a round glow over the
   desk beyond a card's side the reflection hides, the answer's side a tangent to its fade.

   An answer still asked about after the refinement and its growth may be an ID card's body without its colour band,
   the band's far end under a lamp's reflection (``_band_edge``, 2026-12-07, finder-band): beyond one side a plain
   strip of one colour, unlike the body and the desk, between the neighbours' extensions, ends at a step parallel to
   the side BAND_WIDTH of the neighbours out, seen where nothing is blown out (BAND_SEEN, stepping along BAND_SHARE of
   it), one neighbour going on along the band as a step (``_band_sides``) and the card then card-shaped
   (BAND_ASPECT). The side moves out to that step, refined, and the corner under the reflection follows the line; the
   answer stays asked.

   A confident answer with one side that has neither paper nor desk outside it nearly all along (a strip left out: a
   card's band) next to a side outlined along less than half of it with something else beside it (an object along
   it) is asked (``_band_beside_object``, 2026-12-07, finder-occl3): a phone over a card's side just below its band
   hides where the band meets the body, the side runs along the phone's edge and the band is not grown. There (any
   score) the card is taken with its band where the band's outer edge steps to the desk and the band's run along it
   ends at both corners, one of them on the far side (``_band_across``, finder-occl4): the near side through the
   other end, parallel to the far side, refined; still asked.
   A confident answer with a region inside it that its unprinted, calm band hugs on three sides, turned against the
   answer by NEST_TURN degrees or more in the answer's plane (at full size) is an object under a document — a mat, a
   tray, a clipboard, a folder, a larger sheet: the document inside is taken, asked (``_on_object``, 2026-12-07,
   finder-nested9). What is printed on a document (a white box on a coloured form, a label) is parallel to its sides.

The score (``Detection.score``, 0..1) is the winner's near-step score times the wide check's mean
share, lowered when its inside ring is less flat than paper's, and lowered when a second quadrilateral
apart from the winner is ranked nearly as high (two sheets in view: ``_doubt``; never below NO_PAGE), and capped
below ``CONFIDENT`` when a document's edge may lie beyond the answer or a side lies at the photo's border
(step 10), or when a gap runs across the answer from side to side with the desk beyond its ends and showing through
it at full resolution, a calm margin beside it, or a grid of such lines with calm cells does (two sheets side by
side taken as one page, a keyboard: ``_seam``; a printed rule, a crease or squared paper is none). ``CONFIDENT`` is
calibrated on the tuning split: at or above it the corners are right (IoU >= 0.9) on ~95 % of photos; below it the
wizard asks the operator to check the corners. See docs/scanner.md for the measured accuracy, the calibration on the
held-out split, and the speed.
"""
from __future__ import annotations

import bisect
import itertools
import math
import threading
from dataclasses import dataclass

import cv2
import numpy as np

WORK_SIDE = 640          # long side of the working image, px
MIN_SEGMENT = 12         # px at working size; shorter straight pieces are text or noise
MAX_LINES = 44           # lines kept for the quadrilateral search (44 lines → ~60k quadrilaterals)
MEDIANS = (9, 1)         # px medians of the two views (1: none; 9 removes text, grain, weave, thin stripes)
PICK = 20                # lines taken by each of the three rankings (length, evidence, evidence off-family)
MAX_SEGMENTS = 3000       # longest straight segments merged into lines in the view as it is (texture)
RAW_LINES = 160          # longest chain lines measured before the rankings pick MAX_LINES of them
AREA_POWER = 0.5         # preference for larger quads (a block or table inside the page outlines less)
RERANK = 60              # leading quadrilaterals checked again with wider evidence
WIDE_IN, WIDE_OUT, WIDE_STEP = 6.0, 5.0, 0.08  # px in, px out (and twice that), log colour distance
HOUGH_LINES = 60         # longest Hough segments added when no chain line already covers them
STRIPE_BIN = 5.0         # degrees: directions of edge pixels counted together …
STRIPE_SHARE = 0.4       # … and the share of them in one direction (with its neighbours) that is the desk's stripes
HOUGH_ALIGNED = 0.5      # on stripes, share of a Hough segment whose edge gradient is across it (not across stripes)
HOUGH_ACROSS = 20        # degrees: … within this of the segment's normal
STEP_OFFSET = 2.5        # px either side of a line where the step is measured
MIN_AREA = 0.01          # smallest page, as a share of the photo
FLAT_GRADIENT = 0.02     # log units per px: below this a pixel of the texture-free view is smooth
FLAT_POWER = 4.0         # how strongly the rank prefers a flat inside
FLAT_PAPER = 0.8         # a page's inside is at least this smooth; less costs confidence
REGION_SIDE = 160        # px: long side of the copy segmented by colour for region candidates
REGION_K = 4             # colour clusters
COARSE_SMOOTH = 0.45     # smooth share around a pixel of the coarse mask's regions
FAINT_DESK = 0.5         # smooth share of the photo above which the stricter level is looked at too
TEXTURE_SIDE = 320       # px: long side of the copy of the smooth mask whose regions are candidates
CONTAIN_GROW = 1.15      # a candidate at least this much larger around the winner …
CONTAIN_SCORE = 0.9      # … with this share of its near-step score and confidence is the page
CONTAIN_BETTER = 1.02    # … or this much larger when it is better outlined than the winner
PAGE_ANGLE = 50          # degrees: a page's corners in the photo are no sharper (nor blunter than 180 minus it):
                         # a sheet seen from above keeps near-right corners (a sliver of grain, or four lines of
                         # a cloth or a page's print crossing at a slant, do not)
STEEP_ANGLE = 30         # … but a sheet photographed in steep perspective has corners down to this: such a
                         # candidate is the answer only when no page-shaped one is found, and the operator is asked
STEEP_DOUBT = 0.9        # … its confidence is at most this share of CONFIDENT
POLISH_REACH = 0.15      # share of a side a region's outline is searched either side for the page's edge
OUTERMOST = 0.4          # a step this share of a row's strongest counts as the page's edge if outermost
RIDGE_SAMPLES = 4        # profile samples (≈ a printed line's width) a line's outer flank precedes its inner
CURL_REACH = 0.03        # share of a side searched either side of it at full resolution (curled pages)
NEAR_REACH = 2.5         # working px either side of a side whose rows alone start its fit at full resolution
LOBE = 0.5               # share of an edge's gradient peak that bounds its lobe (the edge is the lobe's middle)
NEAR_CORNER = 0.3        # share of a wavy side next to a corner that decides where the corner is
MIN_SCORE = 0.45         # below this near-step score a candidate is no page
ENDS_LEAD = 3            # lines leading by step evidence that may be a till receipt's long sides (its strongest) …
ENDS_PARALLEL = 4        # degrees: two of them this parallel …
ENDS_APART = 2 * MIN_SEGMENT  # … this many px (working) apart or more …
ENDS_SQUARE = 30         # … and a line crossing both within this many degrees of square may be an end …
ENDS_STEP = 0.7          # … stepping along this share of the part between them (``_receipt_ends``) …
ENDS_ROWS = 1            # … where this many such lines or more lie between the two ends, ENDS_APART px in (print) …
ENDS_PAIRS = 2           # … the ends of this many pairs at most kept for the quadrilateral search
ENDS_BEYOND = 0.5        # … where neither end steps along this share of one width beyond either long side …
ENDS_GAP = 2             # … from this many px (working) off the side (its blur) …
SURE = 0.95              # confidence at which the second view is not looked at (time)
LONG_ASPECT = 3.5        # a candidate this many times longer than wide may be a till receipt, print to its margins …
PRINT_CLOSE = 5          # px (working): … whose dark print this thin is closed over before its flatness is taken …
PRINT_EDGE = 2           # … leaving out this many px inside its sides (their blur fills a narrow ring: long12) …
MARGIN_DEPTH = 1.0       # px (working) inside each long side where a receipt's plain margin is looked at …
MARGIN_DARK = 15         # … a sample there the closing (PRINT_CLOSE) lifts by this many grey levels being a dark mark …
MARGIN_MARKS = 0.45      # … and a side with this share of its samples marked has print from its edge (ruler: long14)
NO_PAGE = 0.3            # below this confidence the photo shows no page (an empty desk scores 0.15-0.25)
# At or above this score the page is straightened without asking; below it the wizard shows the photo with the
# corners for the operator to check and drag (edge.devices.scanner.corners). Calibrated on the tuning split:
# at or above it the corners are right (IoU >= 0.9) on ~95 % of photos. See docs/scanner.md.
CONFIDENT = 0.75
LOW_CONTRAST_GAIN = 3.0  # steps are amplified this much when nothing is found at first (a pale page)
CRISP = 0.65             # share of a faint side's change in log colour within 3 px of it (a step, not a ramp)
BLUR_REACH = 6           # px (working): … or within this of it, a side across the motion blur (``_blurred_steps``)
BLUR_SHARE = 0.4         # … when at least this share of its change is within 3 px (a ramp about the side)
GROW_REACH = 6.0         # a side is searched this many of its neighbours' lengths beyond it (_grow)
GROW_CALM = 0.3          # share of a grown strip that is calm (gradient below FLAT_GRADIENT / 2) …
GROW_CALM_MIXED = 0.5   # … or this share when its outline steps both ways (a band between a cloth's stripes)
GROW_CALM_ALONG = 0.8    # … or this share calm along the new side (a shaded curl under print changes across it only)
GROW_WIDE = 0.8          # … and the wide check's share on each of its three outer sides
GROW_CROSSINGS = 16      # strongest far edges a neighbour's extension crosses, tried as the strip's end
RIVAL_SHARE = 0.5        # a quad apart from the winner ranked above this share of it lowers the confidence
RIVAL_FLOOR = 0.4        # … down to this factor for an equal rival
RIVAL_OVERLAP = 0.05     # share of the smaller one's area two quads may have in common and still be apart
GROW_APART = 6.0         # px: strips whose new corners are all this close count as one try
GROW_TRIES = 5           # best-outlined strips checked as a region of paper per side (_grow)
CLIPPED = 250           # every channel at least this: blown out (a lamp's reflection, or over-exposed paper)
GLARE_CLIPPED = 0.3      # a quad this much blown out inside, with ramps for sides, outlines a reflection
BLIND = 3                # px all round a point that must be blown out for it to show nothing
SEEN_SHARE = 0.5         # a side's share of step is taken over its part not blown out, at least this share of it
HIDDEN_UNLIKE = 0.15     # log colour: a grown strip's side is hidden where its inside is this far from paper and desk
OBJECT_REACH = 0.25      # a side is tried moved either way by up to this share of its neighbours (``_under_object``) …
OBJECT_IN = 5.0          # … its inside this many px in, its outside this many and twice as many px out (working) …
OBJECT_RUN = 0.1         # … the new side with an object over one stretch of it (hidden, both sides) this share long …
OBJECT_SUPPORT = 0.9     # … and at least this share of the rest of it paper inside, the desk outside …
OBJECT_BETTER = 0.15     # … this much more than the side it replaces
OBJECT_END = 12          # px along the line either side of an object's stretch's end …
OBJECT_STEP = 3          # … over which its colour changes …
OBJECT_CRISP = 0.45      # … at least this share of its change from one side of the end to the other
STRIP_OUTSIDE = 0.85     # a side with neither paper nor desk outside this share of it (a band left out) …
OBJECT_ALONG = 0.5       # … next to a side outlined less than this share of it, an object along it: asked (occl3)
DESK_INSIDE = 0.5        # a side with the desk's colour just inside along this share of it: a wedge of desk? (occl5)
CUT_REACH = 0.25         # … cut only where the side cut off goes on as a step this share of its length past a corner …
CUT_CARRY = 0.5          # … at this mean strength (a plank's seam; a page's edge ends at its corners: review of occl5)
CLOTH_CARRY = 0.8        # … a stripe's edge taken for a side goes on at this mean strength one way (review of occl6)
RIM_DEPTH = 2.0          # a faint side's dark rim (the page's edge shadow) at most this many times its step …
RIM_FLAT = 0.35          # … with the desk beyond it and the paper inside changing by less than this share of it
RAMP = 0.45              # a side with less of its change within 3 px than this is a ramp (_unramp) …
UNRAMP_REACH = 0.25      # … and lines this share of its length either side of it are searched for the edge
UNRAMP_MOVE = 3.0        # px: … both ends of the side at least this far out …
UNRAMP_SHARE = 0.6       # a crisp step: the change within 2 px of the line is at least this of that within 8 px
UNRAMP_SUPPORT = 0.5     # share of the new side that must be a crisp step
EXTEND_SUPPORT = 0.5     # share of a grown strip's outline that must be a consistent step
# A document's own edge beyond the answer (2026-12-06, after the real photos: a card's printed frame taken for the
# card). Searched outward from each side in the photo as it is (a card's rim is a few px at working size):
RIM_MIN = 3              # px: nearest offset looked at (a contact shadow hugs a page's edge)
RIM_REACH = 0.25         # share of the quad's span across a side searched beyond it for a rim's outer edge …
ENCLOSE_REACH = 3.0      # … and for any edge enclosing the answer (a photo block inside a card)
RIM_SHARE = 0.6          # share of a line beyond a side that must step the same way to be an edge
RIM_EDGES = 0.6          # two steps are apart when the share between them falls below this of the smaller
RIM_CALM = 0.03          # log colour: a rim's neighbouring samples differ less than this (paper, no print) …
RIM_CALM_SHARE = 0.8     # … this share of them along the side (and half of them across it)
RIM_ALIKE = 0.1          # log colour distance within which the rims of the four sides are the same paper
RIM_OUTLINE = 0.6        # near-step score the enclosing quadrilateral must reach to count
FRAME_DOUBT = 0.9        # an answer with an enclosing outline it did not take: confidence at most this x CONFIDENT
NEST_EDGE = 2            # px: a document on an object (finder-nested9): the band is looked for this far inside the
NEST_RING = 7            # answer's sides (off their blur), its colour taken from there to this far inside
NEST_ALIKE = 0.25        # log colour: a calm pixel of the texture-free view this close to that colour is band …
NEST_CALM = 0.03         # … calm: its gradient (log units per px) below this (a tray's lip darkens gently)
NEST_MIN = 0.08          # share of the answer's area the document inside must cover at least (a stamp does not;
#                          nor a photocopy of an ID card on a blank A4 page, 7.4 % of it, nor an address label on an
#                          envelope: at 0.05 both were taken, asked, where the page is right, sure — review of
#                          finder-nested12; an ID card lying on an A4 sheet is not told from its photocopy)
NEST_GAP = 3.0           # px: the band is looked for this far outside each side of the document inside …
NEST_HUG = 0.6           # … and must be there along this share of three of its sides at least
NEST_INK = 0.15          # log colour: a pixel this much darker in the photo than without texture is ink …
NEST_PRINTED = 0.05      # … and the band unprinted when at most this share of it is
NEST_TURN = 0.8          # degrees: the document inside turned against the answer by this much at least (in the
NEST_TURN_MAX = 25.0     # answer's own plane, all four sides the same way, both refined at full size), at most this
#                          (1.2 before finder-nested12: refined at 12 MP a page turned by 0.93 measured 0.92; the
#                          printed boxes of bench/outer_documents that pass the sieve below measure 0.04)
NEST_ROUGH_TURN = 1.0    # … and at working size by this much (``_rough_turn``, sides weighted by their lengths)
POLISH_MOST = 8.0        # ``_polish`` ends with at most this times the area it started from (3 stages, 2x each) …
NEST_AREA_SLACK = 1e-6   # … asked with this relative margin for rounding (``_polished_below``)
NEST_CROP_REACH = max(MEDIANS) // 2  # px: the crop's median differs from the whole image's this near a cut …
NEST_CROP_STRIP = 3 * NEST_CROP_REACH  # … so strips this wide are taken again (``_crop_median``)
NEST_DARKER = 0.21       # log colour: the document inside is not darker than the band by more than this in any
                         # channel (a sticky note, a photo, a copied ID card or a grey copy on a white page is)
BORDER_NEAR = 0.005      # share of the photo's long side: a side this close to the photo's border all along (or a
                         # corner out of it) may belong to a page running on beyond the photo: capped likewise
SEAM_MIDDLE = 0.2        # a line across the answer this share or more in from both its sides …
SEAM_STEP = 0.06         # … along which the photo differs by this (log colour) from both sides 2-5 px away …
SEAM_SHARE = 0.8         # … on this share of its length, and of each end's SEAM_END: two sheets side by side
SEAM_END = 0.06          # (a gap or a seam between them), not print, which ends at the page's margins
SEAM_SAMPLES = 100       # points along a line across the answer where the seam is looked for
SEAM_DESK = 0.5          # the desk beyond a seam's ends is nearer its colour than this share of its sides' distance
REGROW_AREA = 1.35       # the growth from the refined sides takes a band or a fold, at most this much more
REGROW_MOVED = 1.5       # … looked for only where the refinement moved a corner this far (working px)
QUIET_REACH = 5          # px: a pixel this near an edge of the view as it is is busy (a fine stripe or check) …
QUIET_OPEN, QUIET_CLOSE = 3, 15  # px: the desk's thin gaps go; quiet pieces this near are one page's
QUIET_INSIDE = 0.9       # a quiet region this much inside a confident answer is its inner part, not a page
QUIET_SHARE = 0.2        # … whose hull they fill at least this much (the rest its print)
QUIET_BUSY = 0.6         # … and where this share of the photo is, the regions free of edges are candidates
PRINTED_OUTLINE = 0.95   # an answer below NO_PAGE outlined this well (near-step and wide check, every side) …
PRINTED_RIM = (1.5, 4.0)  # … with a rim this many px inside it (working) …
PRINTED_PALER = 0.1      # … paler (log lightness) than its inside is a page full of print, asked (_printed_page)
QUIET_BAND = 7.0         # px (working): a band this wide on average between an answer and a quiet region inside it …
QUIET_BAND_DESK = 0.1    # … whose colour is this far (log colour) from the desk beyond the answer is paper (a rim)
COARSE_SAME = 6.0        # px (working): a coarse-view winner with all corners this near the first look's: its answer
SEAM_TRIES = 5           # seams nearest the middle checked against the desk
SEAM_GAP_DESK = 0.2      # … and at full resolution, the line's most unlike sample this near the desk (_desk_in_gap)
SEAM_QUIET = (2, 7)      # px beyond a seam's edges (working size, rectified) that must be calm …
SEAM_QUIET_GRID = (2, 9)  # … for a grid of seams (a keyboard's keys are larger than squared paper's squares) …
SEAM_CALM = 0.08         # … no channel changing by this (log colour) across that band …
SEAM_QUIET_SHARE = 0.7   # … along this share of the seam (a sheet's margin, a key's top; not print or a grid)
CARRY_REACH = 0.25       # share of a side's length looked at beyond its corner (``_carries_on``) …
CARRY_SHARE = 0.6        # … and the share of it that steps as the side does: the side carries on past the answer
LONG_REACH = 0.5         # … but for an answer shaped as a till receipt at most this share of its short side (long13)
CARRY_DRIFT = 3          # px (working) either side of the side's line the step is looked for beyond its corner
HIDDEN_SEEN = 5          # … samples (of 24) at least seen going on before a reflection that hides the rest …
HIDDEN_CRISP = 0.9       # … each a full step (``_into_reflection``: a reflection's own soft rim steps only partly)
CUT_PAST = 0.6           # … or where one neighbour goes on this share past a side with paper beyond it (occl8) …
CUT_END = 0.2            # … the other ending at its corner (under this share; a wedge from the page's own corner) …
CUT_PAST_STEP = 0.3      # … stepping at least this share of its median step along the answer's side (not grain)
CUT_CRISP = 0.85         # … the one going on past a soft side this sharp (``_line_sharpness``: a page under a shade)
CARRY_IN = 4             # px (working) inside a side where its paper is, and beyond the corner must be the same
GRAIN_FLOOR = 0.005      # log colour: fine texture below this is none (a camera's noise) (``_grain``)
GRAIN_STEP = 0.7         # log: the desk's fine texture this much above a region's (twice) is grain against paper …
GRAIN_RING = 1.0         # … in a ring this share of the answer's narrow way beyond it (the desk's level) …
GRAIN_CLOSE = 9          # px (working): … closed over a line of print this thick …
GRAIN_MORE = 0.5         # … and joined to the answer, adds this share of its area beyond it …
GRAIN_ALIKE = 0.15       # … of the desk's colour within this (log colour, medians): it goes on (``_smooth_beyond``)
GRAIN_FILL = 0.85        # the region fills this share of its hull's four corners: the whole card
GRAIN_BAND = 0.4         # … and the answer at most this share of it: a band, not a page beside a board's end
GRAIN_END = 4            # px (working): two of the answer's corners this near its hull's outline: the card's end (band)
RIM_COVERED = 0.5        # share of the other sides' rim width a covered rim's edge may differ by (``_covered_rim``)
CLOTH_NEAR = 0.04        # log colour: a strip's pixel this near one of the desk's around it is the desk's colour …
CLOTH_SHARE = 0.8        # … and a strip this much of the desk's colours is a piece of the desk (``_desk_strip``) …
CLOTH_WIDE = 14.0        # … when it is this wide on average, px (working; narrower, its pixels are its edges' blur)
ROUGH_DESK = 0.04        # log colour per px: a desk whose median gradient is this is textured, not paper, …
ROUGH_ALIKE = 0.5        # … and a strip with this share of its median gradient is a piece of it …
ROUGH_INSIDE = 2.0       # … when also this many times rougher than the document found (``_rough_as_desk``)
WEDGE_REACH = 0.35       # a side is tried moved in by up to this share of its neighbours (``_desk_wedge``) …
WEDGE_MIN = 8.0          # … at least this far on average, px (working; a narrower strip is mostly the edge's blur) …
WEDGE_GRAIN = 0.35       # … cutting off a strip whose fine texture is within this of the desk's (log: grain) …
WEDGE_PAPER = 0.5        # … the desk this much grainier than the smooth part of the paper left (its lower quartile) …
WEDGE_SPREAD = 0.3       # … of a desk whose colours lie this near their median (90 %, log colour) …
WEDGE_DESK = 0.8         # … and this share of its pixels of the desk's colours (CLOTH_NEAR)
WEDGE_TIE = 0.25         # … ranked by their consistent share, then by their mean step (log colour, to 0.2)
WEDGE_TRIES = 3          # best-outlined new sides (GROW_APART apart) per side checked
BLOCK_REACH = 0.85       # on a plain desk, a side of an asked answer is tried moved in by up to this share (occl7) …
BLOCK_SHARE = 0.3        # … where this share of the answer is the desk's own colour …
BLOCK_STEPS = 90         # … in this many steps of each end …
BLOCK_TRIES = 10         # … of this many best-outlined new sides per side …
BLOCK_EDGE = 0.5         # … only where both neighbours step this much (log colour) along their far quarter …
BLOCK_BLANK = 0.15       # … and less than this share of it along the parts cut off (``_blank_ends``, occl8)
BLOCK_NEAR = 0.5         # … the strip cut off the desk's colour along the new side for this share of it at least
BAND_MORE = 1.0          # a band between the answer and an outline around it, this many times the answer's area …
BAND_INK = 0.03          # … with this share of it ink (this much darker than the texture-free view, log: BAND_DARK) …
BAND_DARK = 0.1
BAND_FLAT = 0.8          # … and this share smooth in the texture-free view: a printed card's body (``_printed_band``)
PAPER_IN = 6             # px (working): the paper's colour is taken this far (and 2 more) inside a side …
PAPER_OUT = 8            # … and a step to the desk looked for up to this far beyond it (``_paper_beyond``) …
PAPER_MIN = 4            # … at least this far (nearer, it is the side's own blur) …
PAPER_DESK = 4           # … with the desk's colour flat for this many px past the step …
PAPER_ALIKE = 0.08       # … within this (log colour) of itself, as the band before the step is of the paper …
PAPER_STEP = 0.15        # … and the desk at least this far from the paper
PAPER_SIDES = 2          # sides with paper beyond them: the answer is a frame printed inside the page
NEAR_STEP = 0.05         # log colour: a step next to a side this large sets its direction where the far one disagrees
NEAR_INK = 0.1           # … and the far inside is ink: darker than the paper next to the side, every channel
FOLLOW_REACH = 2.5       # a carrying-on neighbour is followed up to this many of its lengths past its corner …
FOLLOW_DRIFT = 3         # … its step looked for this many px (working) either side of where it was last seen …
FOLLOW_CHUNK = 16        # … this many px at a time
FOLLOW_GAP = 0.06        # … until this share of its length in turn neither steps nor is blind (``_follow_on``) …
FOLLOW_MIN = 0.05        # … both going on at least this share of it (and the answer that much larger) …
FOLLOW_PAPER = 0.7       # … with this share of the strip taken in the paper's colour or blown out
FOLLOW_GLARE = 0.1       # … and at least this share of it blown out (a reflection; review of finder-glare2)
FOLLOW_ASKED = 0.85      # an answer already asked (``_asked_glare``): this share of the strip not blown out in the
#                          paper's colour (review of finder-glare12: a card on white-and-pink stripes, 0.77)
SHADE_SOFT = 0.5         # a side crossed with less than this share of its change within 3 px of it is a shade's soft
#                          edge: ``_follow_on`` grows past it without a reflection (``_shade_edge``; finder-shade)
PIVOT_MIN = 0.1          # a neighbour going on this share of its length past a soft side's corner, the other not: the
#                          answer turned about that corner (``_pivot_on``; occl9) …
PIVOT_PAPER = 0.85       # … with this share of the triangle taken in the paper's colour
PRINT_BAND = 6.0         # px (working): a band this wide just beyond a side crossed …
PRINT_NEAR = 0.15        # … with this share of it print (BAND_DARK) …
PRINT_INK = 0.05         # … and this share of the strip taken in: a cut at a row of print (``_print_past``; occl9) …
PRINT_STEP = 0.03        # … the paper between the print just beyond the side within this (log) of the paper just inside
#                          it: a sheet's edge over a printed sheet is a step of paper to paper (review of occl9)
SHADE_BORDER = 4.0       # px (working): … but not to within this of the photo's border, the page's end unseen there
BAND_WIDTH = (0.15, 0.45)  # a card's band's far edge: this share of the neighbours' length out (``_band_edge``) …
BAND_GLARE = 3           # px (working) from anything blown out where the band's far edge counts as not seen …
BAND_SEEN = 0.3          # … seen along at least this share of the side …
BAND_SHARE = 0.6         # … and stepping along this share of what is seen
BAND_ASPECT = (1.3, 1.9)  # the card with its band: long sides over short ones (an ID card's 1.586, in perspective)
BODY_THIN = 4.0          # an answer this many times longer than wide may be a card's band alone (``_body_beyond``)
BAND_BODY = 1.32         # … and the body without it at most this long across the band for its side (a portrait
#                          badge's body is 1.24 of its side, a landscape card's 0.49; an A4 page's length 1.41 of its
#                          width: a page flush with a clipboard whose clip end lies beyond it was moved out; review of
#                          finder-band)
BORDER_SIDE = 0.012      # share of the working image's long side: an asked answer's side this close to the photo's
#                          border at both ends, blown out just inside along BORDER_GLOW of it, may be the border taken
#                          for a page's side under a reflection (``_border_side_in``) …
BORDER_GLOW = 0.15       # … (that share blown out 3 px inside the side) …
BORDER_IN = 0.15         # … the page's own side looked for this share of the neighbours' lengths inside it …
BORDER_GRID = 2.0        # … (px, working: each end's depth on this grid, then to the px round the best) …
BORDER_SHARE = 0.7       # … and taken where it steps one way along this share of what is seen …
BORDER_SEEN = 0.2        # … (seen along this share of the line at least) …
BORDER_OUTER = 4.0       # … of such lines, those within this many px (working, mean depth) of the outermost
BORDER_MOVE = 2 * STEP_OFFSET  # … none where the outermost is within this many px (mean depth) of the side: the
#                          side's own step, which ``_step`` sees from up to 2 x STEP_OFFSET off it
END_SHARED = 0.08        # share of an outline's narrow way within which three of the answer's sides lie on three of its
#                          own: the answer is a band at the outline's end (``_band_end``)
GLOW_IN = 0.1            # share of a side that is a ramp with a blown-out patch 5 px inside it …
GLOW_OUT = 0.05          # … and at most this share blown out 2 px outside: a reflection's outer rim (``_glow_side``)
GLOW_PAPER = 0.5         # … unless this share of the answer is blown out: over-exposed paper, its halo over the desk
#                          a ramp beyond every side (review of finder-glare3)
GLOW_NEAR = 0.25         # … and along the blown-out stretch at least this share of the fall from it to the desk
GLOW_FAR = 0.1           # 16-24 px out is left 3 px out, and this share 5-7 px out: a glow fading (``_glow_beyond``; a
#                          page's edge, even curled or defocused, falls to the desk within a few px; finder-glow)
GLOW_DEEP = 16           # px (working): a side whose blown-out patch begins this far inside may still lie on its fade
#                          (``_glow_deep``, finder-glare12)
GLOW_STEP = 0.55         # … but not where this share of that fall drops within 2 px, 1 px in to 5 px out: the page's
#                          edge crossing the glow, a step even in its light (``_edge_in_fade``, finder-glow2)
CLOTH_ROUGH = 0.01       # log colour per px: a desk whose border band's median gradient is this is a textured one …
CLOTH_WINDOW = 21        # px (working): a cloth's stripes and checks average out over a window this wide …
CLOTH_RING = 0.04        # … the desk's windowed colours taken in a band this share of the photo's short side wide …
CLOTH_LEVELS = (1.0, 1.5, 2.0, 3.0)  # … and regions this many times their spread off the desk's colour line …
CLOTH_SOLID = 0.4        # … filling this share of their hull are candidates (``_cloth_regions``, finder-region)
CLOTH_SIDES = 0.75       # … judged with every side's wide check at least this (``_consider_cloth``; at 0.5 a region
#                          took in a lamp's reflection: review, tune glare/1102 at 720p 0.91 -> 0.88)
CLOTH_OUTLINE = 0.95     # such a region around an unsure winner outlined this well (near-step score) …
CLOTH_WIDE_MIN = 0.9     # … and every side's wide check at least this is the page (``_cloth_around``)
REFINED_KEPT = 0.7       # an unsure answer so outlined, refined below this share of its near-step, keeps its sides …
REFINED_GROWN = 1.04     # … when the refinement took it out this much larger (a check's line beyond, not a curl)
FAINT_WEAK = 0.5         # an answer below this confidence whose sides are ramps (not ``_crisp``) gives way to …
FAINT_APART = 0.5        # … a crisp page-shaped answer of the amplified search sharing at most this share of the
#                          smaller one's area with it, and at least as confident: a pale page on a pale cloth whose
#                          strip outranked it (``_faint_instead``, 2026-12-07, finder-arabic12)
OBJECT_CHROMA = 30.0     # an asked answer whose inside is this coloured (median max - min of B, G, R, 0-255) …
OBJECT_DARKER = 0.75     # … and at most this share of the brightness of the pale page the amplified search finds
#                          beside it (an arm or a hand over a pale page) …
OBJECT_TOUCH = 4         # … within this many working px of it (the object reaches onto the page) gives way to that
#                          page, asked (``_object_instead``, 2026-12-08, finder-occl10)
EDGE_JUMP = 0.03         # log colour: an amplified answer that is not crisp is kept, asked, when every side changes by
#                          this much from 2 px outside to 2 px inside it …
EDGE_FLAT = 0.15         # … and the paper 2-8 px inside it changes by at most this share of that …
EDGE_CALM = 0.008        # … and by at most this (log colour): a pale page on a damask (``_onto_flat``, 2026-12-07,
#                          finder-arab8: tune3 arabic/1129 at 1080p, 0.002-0.005; empty desks' sides 0.0074 and up)



@dataclass(frozen=True)
class Detection:
    corners: np.ndarray   # float64 (4, 2) TL, TR, BR, BL in image pixels
    score: float          # 0..1, how much of the outline is a real, consistent step


def order_corners(pts: np.ndarray) -> np.ndarray:
    """Clockwise on screen, starting at the corner nearest the image's top-left."""
    pts = np.asarray(pts, dtype=np.float64).reshape(4, 2)
    c = pts.mean(axis=0)
    pts = pts[np.argsort(np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0]))]
    return np.roll(pts, -int(np.argmin(pts.sum(axis=1))), axis=0)


def find_document(image: np.ndarray) -> np.ndarray | None:
    """The page's corners (float (4, 2), TL TR BR BL, image pixels) in a BGR photo, or None."""
    found = detect(image)
    return None if found is None else found.corners


def detect(image: np.ndarray) -> Detection | None:
    """The page in a BGR (or grey) photo with a confidence, or None when no page is in view. A page returned
    has a score of at least NO_PAGE (below CONFIDENT the operator is asked)."""
    try:
        return _detect(image)
    finally:
        _PRINT_FREE.slot = None  # (what this call made for itself is not kept past it)


def _detect(image: np.ndarray) -> Detection | None:
    image = _as_bgr(image)
    _PRINT_FREE.slot = None
    h, w = image.shape[:2]
    scale = min(1.0, WORK_SIDE / max(h, w))
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    small = cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA) if scale < 1 else image
    gain = 1.0
    found = _search(small, gain)
    printed = found is not None and found[1] < NO_PAGE and _printed_page(small, found)
    if printed:
        # Full of print, so not flat, but outlined as a page is, with a paper rim paler than its print: a page, asked
        # (framed/1048: a narrow note at 0.295, "no page"; a keyboard's outline is as perfect, its bezel darker).
        found = (found[0], NO_PAGE, *found[2:])
    faint = _faint_instead(small, found) if not printed else None
    if faint is None and not printed:  # an arm or a hand over a pale page taken for it: the page, asked (finder-occl10)
        faint = _object_instead(small, found)
    if faint is not None:  # a pale page beside a weak answer of ramps (a strip of cloth): amplified, asked
        found, gain = faint, LOW_CONTRAST_GAIN
    if found is None or found[1] < NO_PAGE:
        # Nothing found: perhaps a page nearly the desk's colour (a pale receipt on a light desk), whose
        # sides step less than the thresholds tuned against texture. Look again with the steps amplified.
        # The gain lifts a desk's blotches as well; a page's side is a step (most of the change within a
        # few pixels of it), a blotch's a ramp.
        gain = LOW_CONTRAST_GAIN
        found = _search(small, gain)
        if found is not None and not _page_shaped(found[0], STEEP_ANGLE):
            found = None
        elif found is not None and not _crisp(small, found[0]):
            # … or, not crisp against the desk 12 px out (a damask of nearly the paper's colour, its tone-on-tone
            # pattern beside the page), edged onto flat paper all round: kept, asked (finder-arab8)
            found = (found[0], min(found[1], FRAME_DOUBT * CONFIDENT), *found[2:]) \
                if _onto_flat(small, found[0]) else None
    if found is None or found[1] < NO_PAGE:
        return None
    # A rival sheet makes *which* page a guess, not *whether* one is in view: the doubt lowers the score so the
    # operator is asked, never below NO_PAGE (a page found and then doubted is not reported missing; every
    # answer's score is at least NO_PAGE). The caps after it (FRAME_DOUBT) are above NO_PAGE.
    quad, score = found[0], max(NO_PAGE, found[1] * _doubt(found[4]))
    cloth_strip = False
    if gain == 1.0:
        quad, score = _beyond(small, quad, score)
        quad = _unramp(small, quad)
        quad = _under_object(small, quad, found[5][0] if len(found) > 5 else None)
        outer = _paper_rim(small, quad)
        if outer is not None:  # paper beyond the sides: a frame printed inside the page was taken (finder-motion2)
            quad, score = outer, min(score, FRAME_DOUBT * CONFIDENT)
        if _seam(small, quad, image):
            score = min(score, FRAME_DOUBT * CONFIDENT)
        # (only where it could still lower the score: an answer already capped is asked either way)
        asked = score <= FRAME_DOUBT * CONFIDENT
        if (not asked or _asked_glare(small)) and \
                _carries_on(found[5][0] if len(found) > 5 else None, quad, lambda: _reflection_distance(small, quad),
                            lambda: _blown_out(small) if small.ndim == 3 else None,
                            lambda: _side_sharpness(small, quad), lambda pts, n: _line_sharpness(small, pts, n)):
            score = min(score, FRAME_DOUBT * CONFIDENT)
            # … and grown along both neighbours to where they end (the page's part under a reflection: finder-glare2)
            grown = _follow_on(found[5][0], small, quad, asked=asked)
            if grown is not None:
                quad = grown
        elif asked and len(found) > 5 and _carries_on(found[5][0], quad):
            # … an answer asked for another reason whose neighbours go on past a side: grown only past a row of print
            # (``_print_past``; finder-occl9: tune3 occluder/1235, a card cut at its code's edge, 0.65)
            grown = _follow_on(found[5][0], small, quad, asked=True, printed=True)
            if grown is not None:
                quad = grown
        # … or lies in a region smoother than the grained desk going on beyond it (finder-card): a card's body
        body = _smooth_beyond(small, found[5][0] if len(found) > 5 else None, quad) \
            if score > FRAME_DOUBT * CONFIDENT else None
        if body is not None:  # asked, with the whole card where the smooth region outlines one
            quad, score = body, FRAME_DOUBT * CONFIDENT
        # … and an answer asked about may have taken a wedge of grained desk beside a side (a plank's seam)
        inner = _desk_wedge(small, found[5][0] if len(found) > 5 else None, quad, deep=True) \
            if score < CONFIDENT else None
        if inner is not None:
            quad = inner
        # … or taken the photo's border for a side under a reflection: moved in onto the page's side (finder-glare10)
        side = _border_side_in(found[5][0], small, quad) if score < CONFIDENT and len(found) > 5 else None
        if side is not None:
            quad = side
        if score >= CONFIDENT and len(found) > 5 and _desk_inside(found[5][0], quad):  # (neither step above ran)
            # … and so may a confident one, where a side has the desk's colour just inside it: cut, then asked (the
            # search's score was the wedge's answer's; finder-occl5: tune2 occluder/1225 0.862 at 0.87)
            inner = _desk_wedge(small, found[5][0], quad)
            # … only where the side cut off goes on as a step beyond its corners (a plank's seam runs across the
            # desk; a page's edge beside a band of wood printed on it ends at the page's corners: review of occl5)
            if inner is not None and _cut_goes_on(found[5][0], quad, inner):
                quad, score = inner, FRAME_DOUBT * CONFIDENT
            else:
                # … which a printed cloth's wedge is not cut for (WEDGE_SPREAD): asked where the strip inside a side
                # is of the cloth's print colours (finder-occl6: tune3 occluder/1189, a stripe taken, 0.881 at 0.96);
                # at the end, so that no step for asked answers (``_band_edge``) moves the answer
                cloth_strip = _cloth_inside(found[5][0], quad)
    # Working-image pixel centres back to full-image pixel centres.
    sx, sy = w / sw, h / sh
    coarse = order_corners(quad)
    quad = (quad + 0.5) * [sx, sy] - 0.5
    if scale < 1:
        # A page of nearly the desk's colour (amplified), or one kept by its pale rim round the print: the step to
        # refine onto is the one next to the side found (paper and desk), not the one towards the print inside.
        quad = _refine(image, quad, max(sx, sy), faint=gain > 1 or printed)
        work = order_corners((quad + 0.5) / [sx, sy] - 0.5)
        if score < CONFIDENT and _refined_off(small, coarse, work):  # onto a check's line beyond (finder-region)
            quad, work = (coarse + 0.5) * [sx, sy] - 0.5, coarse
        if gain == 1.0 and np.abs(work - coarse).max() > REGROW_MOVED:
            # Grown once more from the refined sides: at working size a side pulled off by a hand or a pen
            # beside it points its extension off the band or fold beyond the next side, which the growth step
            # then misses (a card under a hand found without its colour band); refined, it points true. Only
            # where the refinement moved a corner (else the growth step saw the same), and only a band or a
            # fold (REGROW_AREA): a page on a mat or a tray was grown onto the mat. A band is a good part of the answer
            # (CONTAIN_GROW at least): a strip of a mat or a folder a few mm wide beyond one side was taken too.
            grown = _regrow(small, work, found[5] if len(found) > 5 else None)
            if np.abs(grown - work).max() > 1.0 and \
                    CONTAIN_GROW * abs(_area(work)) <= abs(_area(grown)) <= REGROW_AREA * abs(_area(work)):
                quad = _refine(image, (grown + 0.5) * [sx, sy] - 0.5, max(sx, sy))
                if _seam(small, grown, image):  # the grown answer checked as the first was
                    score = min(score, FRAME_DOUBT * CONFIDENT)
    if gain == 1.0 and score < CONFIDENT and len(found) > 5:
        # An answer asked about may be a card's body whose band beyond a side it left out, still after the growth
        # steps (finder-band): the side moved out to the band's far edge where it is seen, refined there
        card = _band_edge(found[5][0], small, order_corners((quad + 0.5) / [sx, sy] - 0.5))
        if card is None:  # … or a card's band found alone, its body beyond a long side left out (finder-glare9)
            body = _body_beyond(found[5][0], small, order_corners((quad + 0.5) / [sx, sy] - 0.5))
            card = None if body is None else (body, 0.0)
        if card is not None:
            quad = _refine(image, (card[0] + 0.5) * [sx, sy] - 0.5, max(sx, sy)) if scale < 1 else card[0]
    quad = order_corners(quad)
    # A side refined onto a lamp's reflection's outer rim: the page's edge is under the glow, a guess (finder-glare3)
    if gain == 1.0 and score >= CONFIDENT and _glow_side(small, (quad + 0.5) / [sx, sy] - 0.5):
        score = FRAME_DOUBT * CONFIDENT
    # A card's band left out beside an object over the card's side: the corner between them is a guess (finder-occl3)
    if gain == 1.0 and len(found) > 5 and _band_beside_object(found[5][0], (quad + 0.5) / [sx, sy] - 0.5):
        score = min(score, FRAME_DOUBT * CONFIDENT)
        # … and taken with the band where the band's outer edge and its ends are seen, still asked (finder-occl4)
        card = _band_across(found[5][0], (quad + 0.5) / [sx, sy] - 0.5)
        if card is not None:
            quad = order_corners(_refine(image, (card + 0.5) * [sx, sy] - 0.5, max(sx, sy)) if scale < 1 else card)
    if gain == 1.0 and score >= CONFIDENT:
        # A document lying on a mat, a tray or a larger sheet, turned against it: the document, asked (finder-nested9)
        lying = _on_object(small, order_corners((quad + 0.5) / [sx, sy] - 0.5), found[5][3] if len(found) > 5 else None)
        if lying is not None:
            lying = (lying + 0.5) * [sx, sy] - 0.5
            lying = order_corners(_refine(image, lying, max(sx, sy)) if scale < 1 else lying)
            # (turned as much once both are refined at full size: a label's side polished onto its print is not)
            if NEST_TURN <= _turn(quad, lying) <= NEST_TURN_MAX:
                quad, score = lying, FRAME_DOUBT * CONFIDENT
    if _at_border(quad, w, h) or cloth_strip:
        score = min(score, FRAME_DOUBT * CONFIDENT)
    return Detection(quad, float(score))


def _faint_instead(small: np.ndarray, found):
    """The amplified search's answer (LOW_CONTRAST_GAIN), asked, in place of a weak first answer (NO_PAGE to
    FAINT_WEAK) whose sides are all ramps (none of CRISP to 1.5), when it is page-shaped, crisp, apart from that
    answer (at most FAINT_APART of the smaller one's area in common) and at least as confident; else None. A white
    page on a pale polka-dot cloth steps too little for the first search (its outline's near-step 0.41, under
    MIN_SCORE), which took a strip of the cloth between rows of dots (0.41, asked, IoU 0): the amplified search, run
    only when nothing was found, finds the page (tune2 arabic/1115 at 12 MP)."""
    if found is None or not NO_PAGE <= found[1] < FAINT_WEAK:
        return None
    # A ramp all round (a strip of cloth between rows of dots: every side 0.40-0.52): not a page found weakly whose
    # other sides are steps (a defocused page, two sides steps, found right at 0.46 beside a pale card of nearly the
    # desk's colour, which the amplified search takes: review of finder-arabic12, tune2 defocus/1139 at 1280x720).
    shares = _side_sharpness(small, found[0])
    if shares is None or any(v is not None and CRISP <= v <= 1.5 for v in shares):
        return None
    amplified = _search(small, LOW_CONTRAST_GAIN)
    if amplified is None or amplified[1] < found[1] or \
            not (_page_shaped(amplified[0], STEEP_ANGLE) and _crisp(small, amplified[0])):
        return None
    common, _ = cv2.intersectConvexConvex(found[0].astype(np.float32), amplified[0].astype(np.float32))
    if common > FAINT_APART * min(abs(_area(found[0])), abs(_area(amplified[0]))):
        return None
    return (amplified[0], min(amplified[1], FRAME_DOUBT * CONFIDENT), *amplified[2:])


def _inside_colour(small: np.ndarray, quad: np.ndarray):
    """The median chroma (max - min of B, G, R) and brightness (mean of B, G, R) of ``small`` inside ``quad``, 2 px in
    from its sides; (0, 0) where nothing is inside or the photo is grey."""
    if small.ndim != 3:
        return 0.0, 0.0
    mask = cv2.erode(_quad_mask(small.shape[:2], quad), np.ones((5, 5), np.uint8))
    px = small[mask > 0].astype(np.float32)
    if len(px) == 0:
        return 0.0, 0.0
    return float(np.median(px.max(axis=1) - px.min(axis=1))), float(np.median(px.mean(axis=1)))


def _object_instead(small: np.ndarray, found):
    """The amplified search's answer (LOW_CONTRAST_GAIN), asked, in place of an asked first answer (NO_PAGE to
    CONFIDENT) that is an object, not paper: its inside coloured (OBJECT_CHROMA at least) and darker than the pale
    page the amplified search finds (OBJECT_DARKER of its brightness at most; the page's own colour under half the
    object's), within OBJECT_TOUCH px of it (the object reaches onto the page), page-shaped and crisp; else None.
    Only a long, narrow first answer (LONG_ASPECT, an arm's outline): a coloured ID card on a white A4 sheet on a pale
    desk, outlined right but asked, gave way to the sheet (review of occl10: 0.997 -> 0.166).
    An arm or a hand over a white receipt on a pale desk steps far more than the receipt's sides, so the first search
    outlined the arm (tune occluder/1188 at 1080p: 0.03 at 0.53, 1197: 0.16 at 0.53, asked); the amplified search,
    run only when nothing was found, finds the receipt (0.73 at 0.48, 0.99 at 0.90)."""
    if found is None or not NO_PAGE <= found[1] < CONFIDENT:
        return None
    if not _elongated(found[0]):  # an arm is long and narrow (1197: 7.7, 1188: 4.7); a coloured ID card (1.59), a
        return None               # form or a cover on or beside a white sheet is the document (review of occl10)
    chroma, bright = _inside_colour(small, found[0])
    if chroma < OBJECT_CHROMA:  # (cheap, first: the amplified search runs only for a coloured answer)
        return None
    amplified = _search(small, LOW_CONTRAST_GAIN)
    if amplified is None or amplified[1] < NO_PAGE or \
            not (_page_shaped(amplified[0], STEEP_ANGLE) and _crisp(small, amplified[0])):
        return None
    paper_chroma, paper_bright = _inside_colour(small, amplified[0])
    if bright > OBJECT_DARKER * paper_bright or paper_chroma >= 0.5 * chroma:
        return None
    page = _quad_mask(small.shape[:2], amplified[0])
    reach = np.ones((2 * OBJECT_TOUCH + 1, 2 * OBJECT_TOUCH + 1), np.uint8)
    near = cv2.dilate(_quad_mask(small.shape[:2], found[0]), reach)
    if not (page & near).any():
        return None
    return (amplified[0], min(amplified[1], FRAME_DOUBT * CONFIDENT), *amplified[2:])


def _in_background(fn, *args):
    """``fn(*args)`` run in a thread of its own; returns a function that waits for its result (or raises its
    error). For OpenCV work that lets go of the GIL (the Hough transform) beside numpy / Python work on the other
    core: a thread per call, no pool (nothing kept across a fork)."""
    out: dict = {}

    def run():
        try:
            out["value"] = fn(*args)
        except BaseException as e:  # handed to the caller
            out["error"] = e

    thread = threading.Thread(target=run, name="docfind-" + fn.__name__, daemon=True)
    thread.start()

    def result():
        thread.join()
        if "error" in out:
            raise out["error"]
        return out["value"]
    return result


def _median(image: np.ndarray, k: int) -> np.ndarray:
    """``cv2.medianBlur(image, k)``, its upper and lower halves on the two cores (the same values: each half is taken
    with k // 2 rows of the other beyond the cut, so no row it keeps sees the cut's replicated border)."""
    h, r = image.shape[0], k // 2
    if h < 8 * k:
        return cv2.medianBlur(image, k)
    m = h // 2
    lower = _in_background(cv2.medianBlur, image[m - r:], k)
    upper = cv2.medianBlur(image[:m + r], k)
    return np.concatenate([upper[:m], lower()[r:]])


def _fold(op, a: np.ndarray) -> np.ndarray:
    """``op`` (np.add, np.minimum, np.maximum, np.logical_and) over a short last axis (a view's colour channels, a
    quad's four sides), one after the other: numpy's own order (((c0 + c1) + c2)), so the same values to the bit as
    ``a.sum(-1)`` / ``a.min(-1)`` / ``a.max(-1)`` / ``a.all(-1)``, without numpy's slow reduction over a short last
    axis (20x faster on a 640 x 480 x 3 view)."""
    out = a[..., 0]
    for c in range(1, a.shape[-1]):
        out = op(out, a[..., c])
    return out if a.shape[-1] > 1 else out.copy()


def _csum(a: np.ndarray) -> np.ndarray:
    """``a.sum(-1)`` of a float view with its channels last (``_fold``)."""
    return _fold(np.add, a)


def _cnorm(a: np.ndarray) -> np.ndarray:
    """``np.linalg.norm(a, axis=-1)`` of a float view with its channels last (``_fold``)."""
    return np.sqrt(_fold(np.add, a * a))


def _count(mask: np.ndarray) -> int:
    """``mask.sum()`` of a 0/1 uint8 mask of the working image (cv2.countNonZero: no widening to 64 bits)."""
    return cv2.countNonZero(mask)


def _blown_out(small: np.ndarray) -> np.ndarray:
    """Where every channel is at least CLIPPED (1, else 0): a lamp's reflection, or over-exposed paper."""
    return (_fold(np.minimum, small) >= CLIPPED).astype(np.uint8)


def _blind(clipped: np.ndarray) -> np.ndarray:
    """Where what is blown out (``_blown_out``) is so all round, BLIND px each way: nothing can be seen there (a
    blown-out page beside a darker desk still shows its edge)."""
    return cv2.erode(clipped, np.ones((2 * BLIND + 1, 2 * BLIND + 1), np.uint8))


def _sample(feat: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """The view's values at points (N, 2) (bilinear; the border repeated)."""
    p = np.asarray(pts, np.float32).reshape(-1, 1, 2)
    return cv2.remap(feat, p[..., 0], p[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).reshape(len(p), -1)


def _chroma(diff: np.ndarray) -> np.ndarray:
    """The size of a difference of log colours (N, 3) without its lightness: a difference in hue and saturation
    (a lamp's reflection or a shade over paper changes its lightness more than its colour)."""
    diff = diff.reshape(len(diff), -1)
    return np.linalg.norm(diff - diff.mean(axis=1, keepdims=True), axis=1)


def _reflection_distance(small: np.ndarray, quad: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Distances (working px) of every pixel from the nearest blown-out one (every channel at least CLIPPED: a lamp's
    reflection or over-exposed paper), and from the nearest outside the answer ``quad``; None where nothing is blown
    out outside it. Inside the answer a blown-out patch is as likely over-exposed paper (a form's white panel) as a
    reflection and hides nothing beyond a side; but either makes steps of its own next to it."""
    if small.ndim != 3:
        return None
    clipped = _blown_out(small)
    outside = clipped & (1 - _quad_mask(small.shape[:2], order_corners(quad)))
    if not outside.any():
        return None
    return cv2.distanceTransform(1 - clipped, cv2.DIST_L2, 3), cv2.distanceTransform(1 - outside, cv2.DIST_L2, 3)


def _cut_past(past: list[bool], blank: list[bool], going: list[tuple[float, float]], sharpness, ways=None) -> bool:
    """Whether a side of the answer is a cut across the page (a row of print, a shade's edge), not its end: its
    neighbours go on past its corners (``going``: per side, the share of CARRY_REACH beyond each of its two corners
    where the neighbour steps one way, as strongly as along the answer, the same paper inside), either both along
    CUT_PAST with the paper itself just beyond the side (``blank``: no darker; a cloth's stripes are), or one
    along CUT_PAST and the other under CUT_END (a wedge from the page's own corner) with the paper's colour beyond
    (``past``) and the side a ramp (``sharpness``: a function giving ``_side_sharpness``, called only then; below
    CRISP). occl8: tune2 occluder/1217 cut at a row of print (both 0.84-0.86) and 1242 at a shade's edge (one 0.75,
    the other 0.0, the side 0.57), both confident and wrong. A page's sides end at its corners; a stripe along a
    page's crisp side goes on past one corner (tune curled/1001: 0.71, the side 0.73), and hexagon tiles of the
    paper's white beside a curled page's soft side past both (tune3 curled/1101 at 720p: 0.75 and 0.54)."""
    if any(blank[s] and min(going[s]) >= CUT_PAST for s in range(4)):
        return True
    one = [s for s in range(4) if past[s] and max(going[s]) >= CUT_PAST and min(going[s]) <= CUT_END]
    if not one or sharpness is None:
        return False
    shares = sharpness()
    if shares is None:
        return False
    for s in one:
        if shares[s] is None or shares[s] >= CRISP:
            continue
        # … and the neighbour going on a crisp step past the soft side: a shade's edge is soft, the page's edge under
        # the shade stays sharp; where the photo is out of focus there, every edge is soft (review: a ruler in line
        # with a page's side below its defocused bottom side)
        if ways is None:
            return True
        on, pts, n = ways[s][0] if going[s][0] >= going[s][1] else ways[s][1]
        crisp = on(pts, n) if pts is not None else None
        if crisp is not None and crisp >= CUT_CRISP:
            return True
    return False


def _carries_on(feat: np.ndarray | None, quad: np.ndarray, glare=None, blown=None, sharpness=None,
                line_sharpness=None) -> bool:
    """Whether a side of the answer ends where both its neighbours carry on (2026-12-06, branch finder-12mp): the
    two sides meeting it continue past its corners as the same step, paper on the same side, along CARRY_SHARE of
    CARRY_REACH of their length (in the texture-free view ``feat``). A page's sides end at its corners, the desk
    beyond them; a long row of print, or a lamp's reflection's rim, across a page ends a part of it whose sides do
    carry on (edge_glare/1010 at 12 MP: the page's upper third, print under a reflection, cut off at 0.93).
    Or where one neighbour goes on as a step the other way, seen, and the other corner is near a lamp's reflection
    (``glare``: ``_reflection_distance``'s pair, or a function giving it, called only when needed; 2026-12-06, branch
    finder-conf2: a card's body found without its band, whose other edge the reflection hides).
    Or where both neighbours go on as a step one way all along, either way, the paper inside and the desk outside
    (``_carries_either``, 2026-12-07, finder-glare: a shade across the page, the shaded paper darker than the desk).
    Or where one neighbour goes on, seen, and the other as far as a lamp's reflection beyond its corner (``blown``: a
    function giving ``_blown_out``'s mask or None, called only when needed; ``_into_reflection``).
    Or where a side has the paper's colour beyond it and its neighbours go on past its corners as strongly as along
    the answer, either way (``_cut_past``, ``sharpness`` a function giving ``_side_sharpness``; 2026-12-07, occl8)."""
    if feat is None:
        return False
    h, w = feat.shape[:2]
    q = order_corners(quad)
    c = q.mean(axis=0)
    short = _receipt_reach(q)
    carries = []
    inward = []  # each side's unit normal into the quad
    past = []  # whether just beyond each side is the side's paper's colour
    blank = []
    for s in range(4):
        a, b = q[s], q[(s + 1) % 4]
        length = float(np.hypot(*(b - a)))
        if length < 1:
            return False
        d = (b - a) / length
        n = np.array([-d[1], d[0]])
        n = n if (c - a) @ n > 0 else -n  # into the quad
        inward.append(n)
        t = np.linspace(0.1, 0.9, 24)
        pts = a + t[:, None] * (b - a)
        mag, lum = _step(feat, pts[:, 0].astype(np.float32), pts[:, 1].astype(np.float32),
                         np.full(len(t), n[0], np.float32), np.full(len(t), n[1], np.float32))
        sign = 1.0 if np.median(lum) >= 0 else -1.0
        side_step = float(np.median(mag))
        paper = np.median(_sample(feat, pts + CARRY_IN * n), axis=0)  # the side's inside: paper
        # … and just beyond the side: paper too where a shade across the page ends the answer, the desk where another
        # sheet lies beyond a strip of desk (``_carries_either`` only: a shade's part of the page touches the answer)
        just = _sample(feat, pts - CARRY_IN * n)
        past.append(float((_chroma(just - paper) < WIDE_STEP).mean()) >= CARRY_SHARE)
        # … the paper itself, no darker (``_cut_past``: blank paper beyond a row of print, not a cloth's stripe)
        lighter = (just - paper).reshape(len(just), -1).mean(axis=1) > -WIDE_STEP  # (print inside darkens the paper)
        blank.append(float(((_chroma(just - paper) < WIDE_STEP) & lighter).mean()) >= CARRY_SHARE)
        ends = []
        for start, way in ((a, -d), (b, d)):  # beyond the corner at a (backwards) and at b (forwards)
            ext = start + np.linspace(0.04, 1.0, 24)[:, None] * min(CARRY_REACH * length, short) * way
            on = ((ext >= 2) & (ext <= [w - 3, h - 3])).all(1)
            if on.mean() < 0.5:
                ends.append((False, False, None, False, None, None, 0.0))  # beyond the photo: nothing to say
                continue
            # The side found may lie a little off the edge: lines up to CARRY_DRIFT px off it at the corner and twice
            # that at the far end are tried (all at once), each whole (a check steps both ways along any line).
            o, o2 = (v.reshape(-1, 1) for v in np.meshgrid(np.arange(-CARRY_DRIFT, CARRY_DRIFT + 0.5, 1.0),
                                                           np.arange(-2 * CARRY_DRIFT, 2 * CARRY_DRIFT + 0.5, 1.0)))
            u = np.linspace(0.04, 1.0, 24)[on][None]
            e = (ext[on][None] + (o + (o2 - o) * u)[..., None] * n).reshape(-1, 2).astype(np.float32)
            m, lu = _step(feat, e[:, 0], e[:, 1], np.full(len(e), n[0], np.float32), np.full(len(e), n[1], np.float32))
            # … and the same paper inside it as inside the side (a stripe parallel to a side is a step too, not paper)
            same = _chroma(_sample(feat, e + CARRY_IN * n) - paper) < WIDE_STEP
            strength = np.clip((m - 0.02) / 0.04, 0, 1)
            lines = (strength * (lu * sign > 0) * same).reshape(len(o), -1)  # per line tried, per sample: carries
            best = float(lines.mean(1).max())
            # … or as a step the other way: the side goes on as the edge of a band of another colour (a card's
            # band darker than the desk beyond a body lighter than it), which the growth step took for no paper
            # where the band's other edge lies under a reflection (its far end near a blown-out patch, below)
            flipped = float((strength * (lu * sign < 0)).reshape(len(o), -1).mean(1).max())
            # … the band's colour: just inside the line the side goes on along (its step's darker or lighter side)
            band = np.median(_sample(feat, ext[on] + CARRY_IN * n), axis=0)
            desk = _chroma(_sample(feat, e - CARRY_IN * n) - paper) >= WIDE_STEP  # (just outside: not the paper)
            either = _carries_either(strength * same * desk, lu * sign, len(o))
            # … and either way with the same paper inside (``_cut_past``: the side's step may change sign past a shade)
            strong = strength * (m >= CUT_PAST_STEP * side_step)  # (as strong as the side's own: a desk's grain is not)
            turned = float((strong * (lu * sign < 0) * same).reshape(len(o), -1).mean(1).max())
            turned = max(turned, float((strong * (lu * sign > 0) * same).reshape(len(o), -1).mean(1).max()))
            ends.append((best >= CARRY_SHARE, flipped >= CARRY_SHARE, band, either, lines, ext[on], turned))
        carries.append(ends)  # [beyond corner s, beyond corner s + 1]
    # Side s runs from corner s to s + 1: its neighbours are side s - 1 (beyond corner s) and s + 1 (beyond s + 1).
    if any(carries[(s - 1) % 4][1][0] and carries[(s + 1) % 4][0][0] for s in range(4)):
        return True
    if any(past[s] and carries[(s - 1) % 4][1][3] and carries[(s + 1) % 4][0][3] for s in range(4)):
        return True  # … as a step either way (a shade over the page's part beyond: the paper darker than the desk)
    ways = None if not callable(line_sharpness) else \
        [((line_sharpness, carries[(s - 1) % 4][1][5], inward[(s - 1) % 4]),
          (line_sharpness, carries[(s + 1) % 4][0][5], inward[(s + 1) % 4])) for s in range(4)]
    if _cut_past(past, blank, [(carries[(s - 1) % 4][1][6], carries[(s + 1) % 4][0][6]) for s in range(4)], sharpness,
                 ways):
        return True
    # … or where one neighbour goes on past its corner, seen, and the other goes on as far as a lamp's reflection
    # beyond its corner, which hides the rest (2026-12-07, branch finder-sizes: tune3 edge_glare/1001 in a portrait
    # 1080x1920 photo, a receipt's end under a reflection at the photo's top cut off at a row of print, 0.87 at 0.99)
    for s in range(4):
        before, after = carries[(s - 1) % 4][1], carries[(s + 1) % 4][0]
        if before[0] == after[0]:
            continue
        if callable(blown):
            blown = blown()  # (only when one side goes on)
        if blown is None:
            break
        hidden = after if before[0] else before
        if hidden[4] is not None and _into_reflection(hidden[4], hidden[5], blown):
            return True
    if callable(glare) and any(end[1] for ends in carries for end in ends):
        glare = glare()  # (two distance transforms: only when a side goes on as a flipped step)
    if glare is None or callable(glare):
        return False
    # A side with a band beyond it whose far end is under a lamp's reflection (2026-12-06, branch finder-conf2): one
    # neighbour goes on past its corner as the band's edge, seen (that corner out of the reflection's reach, whose
    # rim makes steps of its own), and the other corner is within reach of the reflection, where the band's other
    # edge cannot be seen to carry on (edge_glare/1007, 1008, 1037 at 1080p: a card's band cut off, confident).
    # The corner seen is out of reach of anything blown out, the other within reach of a reflection outside the answer.
    clear, near = ([float(g[int(np.clip(y, 0, h - 1)), int(np.clip(x, 0, w - 1))]) for x, y in q] for g in glare)

    def band_beyond(s: int, k: int, band: np.ndarray) -> bool:
        # The band lies beyond side s, from its seen corner k on: just outside the side's half nearest k, the band's
        # colour (a stripe of the desk along which a neighbour goes on is no band: beyond the side, the desk's
        # stripes alternate across it).
        other = q[(s + 1) % 4] if k == s else q[s]
        p = q[k] + np.linspace(0.02, 0.5, 24)[:, None] * (other - q[k])
        out = [_sample(feat, p - depth * inward[s]) for depth in (CARRY_IN, 2 * CARRY_IN)]
        # the band's colour at the corner, then no step along the side (a reflection's gradient may grey it slowly;
        # the desk's stripes crossing the side step every few samples)
        return _band_along(out, band)

    for s in range(4):
        reach = CARRY_REACH * float(np.hypot(*(q[(s + 1) % 4] - q[s])))
        before, after = carries[(s - 1) % 4][1], carries[(s + 1) % 4][0]
        seen = (before[1] and clear[s] > reach and near[(s + 1) % 4] <= reach and band_beyond(s, s, before[2])) or \
            (after[1] and clear[(s + 1) % 4] > reach and near[s] <= reach and band_beyond(s, (s + 1) % 4, after[2]))
        if seen:
            return True
    return False


def _into_reflection(lines: np.ndarray, pts: np.ndarray, clipped: np.ndarray) -> bool:
    """Whether a side goes on past its corner as far as a lamp's reflection, which hides the rest (``_carries_on``):
    along the side's extension (``pts``, its samples in the photo, nearest the corner first), the first blown-out
    sample (``clipped``: ``_blown_out``'s mask) comes after at least HIDDEN_SEEN of them,
    on one of the lines tried (``lines``: per line, per sample, how far it carries the side's step) the samples before
    it carry on over CARRY_SHARE of them, and CARRY_SHARE of those from it on are blown out. A side's step going into
    a reflection is not seen to end there: the page may go on under it (a receipt's end under a lamp, the answer cut
    at a row of print before it, one neighbour seen going on at the other corner)."""
    h, w = clipped.shape[:2]
    x = np.clip(pts[:, 0].astype(int), 0, w - 1)
    y = np.clip(pts[:, 1].astype(int), 0, h - 1)
    blown = clipped[y, x] > 0
    if not blown.any():
        return False
    k = int(np.argmax(blown))
    if k < HIDDEN_SEEN or float(blown[k:].mean()) < CARRY_SHARE:
        return False
    # … each seen as a full step, a page's edge (a lamp's reflection's own soft rim just inside the line steps too,
    # only partly: a receipt against a light desk's edge, the reflection past its corner on the desk)
    return float((lines[:, :k] >= HIDDEN_CRISP).mean(1).max()) >= CARRY_SHARE


def _band_along(out: list[np.ndarray], band: np.ndarray) -> bool:
    """Whether a band lies along a side beyond it (``_carries_on``'s flipped-step branch): on one of the lines sampled
    just outside the side's half nearest the corner seen (``out``, CARRY_IN and twice that out), the band's colour
    (``band``, within 2 x WIDE_STEP) at the corner and no step along the line over CARRY_SHARE of it (the desk's
    stripes crossing the side step every few samples on every line; a band greyed slowly by a reflection does not).
    Both on the same line, not each on either (2026-12-07, branch finder-glare3): a card's band carries a row of
    print (tune2:edge_glare/1013 at 12 MP: the card's number along the band's far half, 8 px out, steps along 43 % of
    it; 4 px out the band is plain), and the line through the print was the one that failed."""
    return any(float(np.linalg.norm(o[0] - band)) < 2 * WIDE_STEP and
               float((np.linalg.norm(np.diff(o, axis=0), axis=1) < WIDE_STEP).mean()) >= CARRY_SHARE for o in out)


def _band_edge(feat: np.ndarray, small: np.ndarray, quad: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The answer moved out over a card's colour band beyond one of its sides (2026-12-07, branch finder-band), with
    the share of the band's far edge seen, or None. A card's body found without its band: just beyond the side a
    plain strip of one colour, unlike the body's paper (2 x WIDE_STEP) and the desk beyond the other sides, bounded by
    the extensions of the two neighbouring sides, ending at a step parallel to the side BAND_WIDTH of the neighbours'
    length out (a card's band is 0.22 of it across: 0.28 of the body; along its long side, or a portrait badge's short
    one); a lamp's reflection washes out the band's far end, so the step is looked for where it can be seen (nothing
    blown out within BAND_GLARE px) and the corner there follows the line. Taken when the step is seen along
    BAND_SEEN of the side and steps along BAND_SHARE of what is seen (the depth where that share peaks), the band of
    its colour along CARRY_SHARE of what is seen up to there, one neighbour going on along it as a step
    (``_band_sides``) and the card with it card-shaped (its long sides BAND_ASPECT of its short ones)."""
    if small.ndim != 3:
        return None
    h, w = feat.shape[:2]
    q = order_corners(quad)
    clipped = _blown_out(small)
    near = cv2.dilate(clipped, np.ones((2 * BAND_GLARE + 1, 2 * BAND_GLARE + 1), np.uint8)).astype(np.float32)
    lens = [float(np.hypot(*(q[(s + 1) % 4] - q[s]))) for s in range(4)]
    t = np.linspace(0.05, 0.95, 40)
    f = np.arange(0.0, BAND_WIDTH[1] + 0.1, 0.01)
    best = None
    for s in range(4):
        a, b = q[s], q[(s + 1) % 4]
        la, lb = lens[(s - 1) % 4], lens[(s + 1) % 4]
        if min(la, lb) < 8:
            continue
        if (la + lb) / 2 > BAND_BODY * (lens[s] + lens[(s + 2) % 4]) / 2:
            continue  # a body longer across the band than a badge's: a page's length (review of finder-band)
        da, db = (a - q[(s - 1) % 4]) / la, (b - q[(s + 2) % 4]) / lb  # the neighbours, on past the side's corners
        pa = a[None] + f[:, None] * la * da[None]
        pb = b[None] + f[:, None] * lb * db[None]
        pts = pa[:, None] + t[None, :, None] * (pb - pa)[:, None]  # (F, T, 2): lines across the strip
        inb = ((pts >= 2) & (pts <= [w - 3, h - 3])).all(-1)
        flat = pts.reshape(-1, 2)
        col = _sample(feat, flat).reshape(len(f), len(t), -1)
        glare = (_sample(near, flat)[:, 0] > 0.5).reshape(len(f), len(t)) | ~inb
        _, _, _, n = _inward(q, s)
        paper = np.median(_sample(feat, a + t[:, None] * (b - a) + CARRY_IN * n), axis=0)
        px = CARRY_IN / max(min(la, lb), 1.0)  # CARRY_IN px as a share of the neighbours
        k0 = int(np.ceil(px / 0.01))
        first = ~glare[k0]
        if first.mean() < BAND_SEEN:
            continue
        band = np.median(col[k0][first], axis=0)
        if float(np.linalg.norm(band - paper)) < 2 * WIDE_STEP:
            continue  # the body's paper going on: no band
        like = np.sqrt(_csum((col - band) ** 2)) < 2 * WIDE_STEP  # (F, T)
        # the far edge: the first depth where most seen samples leave the band's colour with a step there
        dn = (pb - pa)
        nn = np.stack([-dn[:, 1], dn[:, 0]], 1) / np.maximum(np.linalg.norm(dn, axis=1, keepdims=True), 1e-6)
        nn *= np.sign((nn * -n).sum(1, keepdims=True))  # outward
        hit = None
        k1 = int(BAND_WIDTH[0] / 0.01)
        e = pts[k1:].reshape(-1, 2).astype(np.float32)  # every line's step at once (one remap)
        nk = np.repeat(nn[k1:], len(t), axis=0).astype(np.float32)
        steps = _step(feat, e[:, 0], e[:, 1], nk[:, 0], nk[:, 1])[0].reshape(-1, len(t)) >= 0.04
        for k in range(k1, len(f) - 1):
            seen = ~glare[k] & ~glare[k - 1]
            if seen.mean() < BAND_SEEN:
                continue
            inside = like[k0:k - 1][~glare[k0:k - 1]]
            if inside.size == 0 or inside.mean() < CARRY_SHARE:
                break  # the band ended before: no plain strip up to here
            share = float((steps[k - k1] & ~like[min(k + 2, len(f) - 1)])[seen].mean())
            if share >= BAND_SHARE and (hit is None or share > hit[1]):
                hit = (k, share, float(seen.mean()))
            elif hit is not None:
                break  # (the step's peak: the far edge)
        if hit is None:
            continue
        k = hit[0]
        # … and the card's sides going on past the body's corners as the band's edges (a step along the neighbours'
        # extensions up to the far edge) where they can be seen; one may be under the reflection, not both
        if not _band_sides(feat, near, q, s, pa[:k], pb[:k]):
            continue
        # … a band unlike the desk beyond the other three sides (a stripe of the desk beyond a page's side is not)
        others = [_inward(q, o) for o in range(4) if o != s]
        out = np.concatenate([a2 + t[:, None] * (b2 - a2) - 2 * CARRY_IN * n2 for a2, b2, _, n2 in others])
        desk, clear = _sample(feat, out), _sample(near, out)[:, 0] < 0.5
        if clear.any() and float(np.linalg.norm(band - np.median(desk[clear], axis=0))) < 2 * WIDE_STEP:
            continue
        new = _with_side(q, s, pa[k], pb[k])
        sides = [float(np.hypot(*(new[(i + 1) % 4] - new[i]))) for i in range(4)]
        pair = sorted([(sides[0] + sides[2]) / 2, (sides[1] + sides[3]) / 2])
        if _convex(new) and BAND_ASPECT[0] <= pair[1] / pair[0] <= BAND_ASPECT[1] and \
                (best is None or hit[2] > best[1]):
            best = (new, hit[2])
    return best


def _body_beyond(feat: np.ndarray, small: np.ndarray, quad: np.ndarray) -> np.ndarray | None:
    """The answer moved out over a card's body beyond one of its long sides (2026-12-07, branch finder-glare9), or
    None: the reverse of ``_band_edge``. A card's colour band found alone (an answer BODY_THIN times longer than it is
    wide), the body beyond it left out: the body's paper is unlike the band (2 x WIDE_STEP just beyond the side) and
    unlike the desk beyond the other three sides (not the desk beyond a receipt), the card's sides go on past the
    band's corners as steps (``_band_sides``), and the body's far edge is a step parallel to the side where the whole
    card is card-shaped (its long sides BAND_ASPECT of its short ones), seen along BAND_SEEN of it (nothing blown out
    within BAND_GLARE px) and stepping along BAND_SHARE of what is seen (the depth where that share peaks).
    tune3 edge_glare/1000 at 3000x4000: a pale card on a hexagon print of its body's colour, its dark band taken
    (0.20); the card's left end under the reflection."""
    if small.ndim != 3:
        return None
    h, w = feat.shape[:2]
    q = order_corners(quad)
    lens = [float(np.hypot(*(q[(s + 1) % 4] - q[s]))) for s in range(4)]
    across, along = sorted([(lens[0] + lens[2]) / 2, (lens[1] + lens[3]) / 2])
    if along < BODY_THIN * max(across, 1.0):
        return None
    clipped = _blown_out(small)
    near = cv2.dilate(clipped, np.ones((2 * BAND_GLARE + 1, 2 * BAND_GLARE + 1), np.uint8)).astype(np.float32)
    t = np.linspace(0.05, 0.95, 40)
    best = None
    for s in range(4):
        a, b = q[s], q[(s + 1) % 4]
        la, lb = lens[(s - 1) % 4], lens[(s + 1) % 4]
        if lens[s] < BODY_THIN * max(la, lb, 1.0):
            continue  # a short side: the band's end
        _, _, _, n = _inward(q, s)
        band = np.median(_sample(feat, a + t[:, None] * (b - a) + CARRY_IN * n), axis=0)
        body = np.median(_sample(feat, a + t[:, None] * (b - a) - CARRY_IN * n), axis=0)
        if float(np.linalg.norm(body - band)) < 2 * WIDE_STEP:
            continue  # the band's colour going on: no body of another paper
        # … nor the desk going on beyond a strip of paper (a receipt): the body unlike the desk beyond the other sides
        others = [_inward(q, o) for o in range(4) if o != s]
        out = np.concatenate([a2 + t[:, None] * (b2 - a2) - 2 * CARRY_IN * n2 for a2, b2, _, n2 in others])
        clear = _sample(near, out)[:, 0] < 0.5
        if clear.any() and float(np.linalg.norm(body - np.median(_sample(feat, out)[clear], axis=0))) < 2 * WIDE_STEP:
            continue
        da, db = (a - q[(s - 1) % 4]) / max(la, 1e-6), (b - q[(s + 2) % 4]) / max(lb, 1e-6)
        # depths (px past the side) at which the whole card is card-shaped
        depth = np.arange(max(lens[s] / BAND_ASPECT[1] - (la + lb) / 2, CARRY_IN + 2),
                          lens[s] / BAND_ASPECT[0] - (la + lb) / 2, 1.0)
        if len(depth) < 3:
            continue
        pa, pb = a[None] + depth[:, None] * da[None], b[None] + depth[:, None] * db[None]
        pts = pa[:, None] + t[None, :, None] * (pb - pa)[:, None]  # (D, T, 2)
        inb = ((pts >= 2) & (pts <= [w - 3, h - 3])).all(-1)
        flat = pts.reshape(-1, 2)
        seen = ~((_sample(near, flat)[:, 0] > 0.5).reshape(len(depth), len(t)) | ~inb)
        dn = pb - pa
        nn = np.stack([-dn[:, 1], dn[:, 0]], 1) / np.maximum(np.linalg.norm(dn, axis=1, keepdims=True), 1e-6)
        nn *= np.sign((nn * -n).sum(1, keepdims=True))  # outward
        nk = np.repeat(nn, len(t), axis=0).astype(np.float32)
        e = flat.astype(np.float32)
        steps = (_step(feat, e[:, 0], e[:, 1], nk[:, 0], nk[:, 1])[0] >= 0.04).reshape(len(depth), len(t))
        share = np.where(seen.mean(1) >= BAND_SEEN, (steps & seen).sum(1) / np.maximum(seen.sum(1), 1), 0.0)
        k = int(np.argmax(share))
        if share[k] < BAND_SHARE or not _band_sides(feat, near, q, s, pa[:k + 1:2], pb[:k + 1:2]):
            continue
        # … nor the body's paper going on past a corner (a receipt along an envelope or a folder that runs on past
        # the receipt's end: the paper beyond the side is another thing's, not a card's body ending with the band)
        u = (b - a) / max(lens[s], 1e-6)
        if any(_runs_on(feat, near, ext[2:k + 1] + 2 * CARRY_IN * out, body) for ext, out in ((pa, -u), (pb, u))):
            continue
        new = _with_side(q, s, pa[k], pb[k])
        if _convex(new) and (best is None or share[k] > best[1]):
            best = (new, float(share[k]))
    return None if best is None else best[0]


def _border_side_in(feat: np.ndarray, small: np.ndarray, quad: np.ndarray) -> np.ndarray | None:
    """The answer with a side along the photo's border moved in onto the page's own side (2026-12-07, branch
    finder-glare10), or None. A lamp's reflection over a page's side next to the photo's border blows out the side and
    the desk between it and the border: the search takes the border (its straightest change) for the side. The page's
    own side still shows as a step where the reflection does not reach (clear of anything blown out by BAND_GLARE
    px): lines from the side's two ends inward along the neighbours (CARRY_IN px to BORDER_IN of their length, each
    end on its own on a BORDER_GRID px grid: the side may lie at an angle to the border) are looked at
    (``_border_lines``); a line qualifies where it steps one way along BORDER_SHARE of what it sees (BORDER_SEEN of it
    at least). Of the outermost qualifying lines (within BORDER_OUTER px: the page's side, not the edge of a picture
    printed inside it) the one with the largest summed step is taken, then moved to the px round it where the step is
    largest. Only for a side within BORDER_SIDE of one border at both ends and blown out 3 px inside along BORDER_GLOW
    of it.
    tune3 edge_glare/1000 at 4000x3000: a card's left side 110-163 px from the border, the reflection over it, taken
    at the border (0.869, asked)."""
    if small.ndim != 3:
        return None
    h, w = feat.shape[:2]
    q = order_corners(quad)
    reach = BORDER_SIDE * max(w, h)

    def along_border(s):
        ends = np.stack([q[s], q[(s + 1) % 4]])
        return any((ends[:, k] < reach).all() or (ends[:, k] > lim - reach).all()
                   for k, lim in ((0, w - 1), (1, h - 1)))

    sides = [s for s in range(4) if along_border(s)]
    if not sides:
        return None
    clipped = _blown_out(small)
    if not clipped.any():
        return None
    near = cv2.dilate(clipped, np.ones((2 * BAND_GLARE + 1, 2 * BAND_GLARE + 1), np.uint8)).astype(np.float32)
    t = np.linspace(0.05, 0.95, 40)
    best = None
    for s in sides:
        a, b, _, n = _inward(q, s)
        hot = _sample(clipped.astype(np.float32), a + t[:, None] * (b - a) + 3 * n)[:, 0] > 0.5
        if float(hot.mean()) < BORDER_GLOW:
            continue
        pa_end, pb_end = q[(s - 1) % 4], q[(s + 2) % 4]
        la, lb = float(np.hypot(*(pa_end - a))), float(np.hypot(*(pb_end - b)))
        da, db = (pa_end - a) / max(la, 1e-6), (pb_end - b) / max(lb, 1e-6)
        depth = np.arange(float(CARRY_IN), BORDER_IN * min(la, lb), BORDER_GRID)  # (clear of the border's change)
        if len(depth) < 3:
            continue
        i, j = (v.ravel() for v in np.meshgrid(depth, depth, indexing="ij"))
        share, strength = _border_lines(feat, near, a + i[:, None] * da, b + j[:, None] * db, -n, t)
        # the outermost lines stepping along BORDER_SHARE of what they see (the page's side, not a picture's edge
        # printed inside it), and of those the one stepping most (a line seen only above the reflection steps all
        # along what it sees at any tilt below it; a step is seen from a few px either side: the strongest) …
        good = share >= BORDER_SHARE
        if not good.any():
            continue
        mid = (i + j) / 2
        if mid[good].min() < BORDER_MOVE:
            continue  # the side's own step, seen a few px off it: the page's edge near the border (edge_glare/1002)
        k = int(np.argmax(np.where(good & (mid <= mid[good].min() + BORDER_OUTER), strength, -1.0)))
        # … then to the px around it (the grid is BORDER_GRID px)
        di, dj = (v.ravel() for v in np.meshgrid([-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0], indexing="ij"))
        pa, pb = a + (i[k] + di)[:, None] * da, b + (j[k] + dj)[:, None] * db
        share, strength = _border_lines(feat, near, pa, pb, -n, t)
        k = int(np.argmax(np.where(share >= BORDER_SHARE, strength, -1.0)))
        # … only where something unlike the page's paper (the paper just inside the other three sides) is seen between
        # the line and the side: not where the paper goes on there or nothing is seen (a page running off the photo
        # under the reflection, the line print parallel to the border inside it: a stripe, a table's or a frame's
        # edge, a shadow's; review of finder-glare10)
        others = [_inward(q, o) for o in range(4) if o != s]
        paper = np.median(np.concatenate([_sample(feat, a2 + t[:, None] * (b2 - a2) + CARRY_IN * n2)
                                          for a2, b2, _, n2 in others]), axis=0)
        strip = np.concatenate([(1 - f) * (a + t[:, None] * (b - a)) + f * (pa[k] + t[:, None] * (pb[k] - pa[k]))
                                for f in (0.3, 0.5, 0.7)])
        clear = (_sample(near, strip)[:, 0] < 0.5) & ((strip >= 2) & (strip <= [w - 3, h - 3])).all(-1)
        if clear.mean() < BORDER_SEEN or \
                float(np.linalg.norm(np.median(_sample(feat, strip[clear]), axis=0) - paper)) < 2 * WIDE_STEP:
            continue
        new = _with_side(q, s, pa[k], pb[k])
        if _convex(new) and (best is None or share[k] > best[1]):
            best = (new, float(share[k]))
    return None if best is None else best[0]


def _with_side(q: np.ndarray, s: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A copy of the quadrilateral ``q`` with its side ``s`` (corner s to corner s + 1) moved to run from ``a`` to
    ``b``: a side moved in or out by the rules that try one (``_band_edge``, ``_body_beyond``, ``_border_side_in``,
    ``_follow_on``, …)."""
    new = q.copy()
    new[s], new[(s + 1) % 4] = a, b
    return new


def _border_lines(feat: np.ndarray, near: np.ndarray, pa: np.ndarray, pb: np.ndarray, out: np.ndarray,
                  t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For lines from ``pa`` to ``pb`` (L, 2), ``out`` roughly their outward normal: the share of what each sees
    (nothing blown out within BAND_GLARE, ``near``; inside the image; 0 where it sees less than BORDER_SEEN of itself)
    that steps one way (all from paper to desk, or all from desk to paper: a row of a desk's tiles steps one way and
    the other), and the summed size of those steps (``_border_side_in``)."""
    h, w = feat.shape[:2]
    pts = pa[:, None] + t[None, :, None] * (pb - pa)[:, None]  # (L, T, 2)
    inb = ((pts >= 2) & (pts <= [w - 3, h - 3])).all(-1)
    px, py = pts[..., 0].astype(np.float32), pts[..., 1].astype(np.float32)  # (L, T): one remap, no long row
    seen = ~((cv2.remap(near, px, py, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE) > 0.5) | ~inb)
    dn = pb - pa
    nn = np.stack([-dn[:, 1], dn[:, 0]], 1) / np.maximum(np.linalg.norm(dn, axis=1, keepdims=True), 1e-6)
    nn *= np.sign(nn @ out)[:, None]  # outward
    nk = np.repeat(nn, len(t), axis=0).astype(np.float32)
    mag, way = _step(feat, px.ravel(), py.ravel(), nk[:, 0], nk[:, 1])
    mag, way = mag.reshape(inb.shape), way.reshape(inb.shape)
    steps = (mag >= 0.04) & seen
    up, down = steps & (way > 0), steps & (way < 0)
    hits = np.maximum(up.sum(1), down.sum(1))
    strength = np.maximum((mag * up).sum(1), (mag * down).sum(1))
    share = np.where(seen.mean(1) >= BORDER_SEEN, hits / np.maximum(seen.sum(1), 1), 0.0)
    return share, strength


def _runs_on(feat: np.ndarray, near: np.ndarray, pts: np.ndarray, colour: np.ndarray) -> bool:
    """Whether the paper of ``colour`` goes on at ``pts`` (just beyond a card's side's extension, review of
    finder-glare9): seen (SEEN_SHARE of them clear of anything blown out) and their median colour within
    2 x WIDE_STEP of it."""
    if len(pts) < 4:
        return False
    h, w = feat.shape[:2]
    inside = ((pts >= 2) & (pts <= [w - 3, h - 3])).all(-1)
    clear = (_sample(near, pts)[:, 0] < 0.5) & inside
    if clear.mean() < SEEN_SHARE:
        return False
    return float(np.linalg.norm(np.median(_sample(feat, pts[clear]), axis=0) - colour)) < 2 * WIDE_STEP


def _band_sides(feat: np.ndarray, near: np.ndarray, q: np.ndarray, s: int, pa: np.ndarray, pb: np.ndarray) -> bool:
    """Whether the neighbours of side ``s`` of ``q`` go on past its corners as steps along ``pa`` and ``pb`` (points
    along each extension, up to a band's far edge: ``_band_edge``): on each extension seen (SEEN_SHARE of it not
    within reach of anything blown out, ``near``) the step is found along CARRY_SHARE of what is seen, on a line up to
    CARRY_DRIFT px off it, on at least one (the other may lie under the reflection's glow, or the answer's corner there
    be off). A card's band's edges continue the body's sides; a stripe of the desk beyond a page's side does not step
    along the page's sides' extensions."""
    c = q.mean(axis=0)
    for pts in (pa, pb):
        if len(pts) < 4:
            continue
        d = pts[-1] - pts[0]
        n = np.array([-d[1], d[0]]) / max(float(np.hypot(*d)), 1e-6)
        n = n if (pts[0] - c) @ n > 0 else -n  # outward
        pts = pts[2:]  # (off the corner)
        clear = _sample(near, pts)[:, 0] < 0.5
        if clear.mean() < SEEN_SHARE:
            continue
        offs = np.arange(-CARRY_DRIFT, CARRY_DRIFT + 0.5)
        e = (pts[clear][None] + offs[:, None, None] * n).reshape(-1, 2).astype(np.float32)
        m, _ = _step(feat, e[:, 0], e[:, 1], np.full(len(e), n[0], np.float32), np.full(len(e), n[1], np.float32))
        if float((m >= 0.04).reshape(len(offs), -1).mean(1).max()) >= CARRY_SHARE:
            return True
    return False


def _glow_side(small: np.ndarray, quad: np.ndarray) -> bool:
    """Whether a side of the answer is a lamp's reflection's outer rim rather than the page's edge (2026-12-07, branch
    finder-glare3): a ramp (less than CRISP of its change within 3 px of it, ``_side_sharpness``), blown out 5 px
    inside it along GLOW_IN of it and at most GLOW_OUT of it blown out 2 px outside. A reflection over a page's short
    side blows out the side and the paper next to it; its glow fades over the desk beyond, and where it is no longer
    clipped, the fade's end makes the last straight change in view (tune2:edge_glare/1022 at 1280x720: 0.795 at
    0.91). A page's own edge is a step, even in a reflection's light; an edge wholly under it can only be guessed."""
    clipped = _blown_out(small)
    if not clipped.any():
        return False
    q = order_corners(quad)
    # A reflection blows out a patch of the page (tune2:edge_glare/1022: 9 % of the answer); a page blown out nearly
    # whole is over-exposed paper, whose halo over a dark desk makes its own sides ramps (review of finder-glare3)
    answer = _quad_mask(clipped.shape, q)
    area = _count(answer)
    if area and _count(clipped & answer) >= GLOW_PAPER * area:
        return False
    shares = _side_sharpness(small, quad)
    if shares is None:
        return False
    t = np.linspace(0.05, 0.95, 40)[:, None]
    mask = clipped.astype(np.float32)
    for s in range(4):
        if shares[s] is None or shares[s] >= CRISP:
            continue
        a, b, _, n = _inward(q, s)
        pts = a + t * (b - a)
        hot = _sample(mask, pts + 5 * n)[:, 0] > 0.5
        outside = float((_sample(mask, pts - 2 * n)[:, 0] > 0.5).mean())
        if float(hot.mean()) >= GLOW_IN and outside <= GLOW_OUT and _glow_beyond(small, pts[hot], n):
            return True
        if float(hot.mean()) < GLOW_IN and outside <= GLOW_OUT and _glow_deep(small, mask, pts, n):
            return True
    return False


def _glow_deep(small: np.ndarray, mask: np.ndarray, pts: np.ndarray, n: np.ndarray) -> bool:
    """Whether a side lies on a lamp's reflection's fade further out than ``_glow_beyond`` looks (2026-12-07, branch
    finder-glare12): blown out first 6 to GLOW_DEEP px inside it (``mask``) along GLOW_IN of it, and of the fall from
    there to the desk (16-24 px out, as ``_glow_beyond``) at least GLOW_NEAR left at the side and GLOW_FAR 3 px out,
    with no step in the fade (``_edge_in_fade``). A round glow over the desk beyond a card's side the reflection hides
    (tune:edge_glare/1103 at 12 MP: 0.30 and 0.17): its fade's end is the last straight change in view, a tangent to
    the glow 11 px from its clipped patch; the answer takes the glow in, confidently."""
    inside = np.stack([_sample(mask, pts + k * n)[:, 0] > 0.5 for k in range(6, GLOW_DEEP + 1)])
    deep = inside.any(0)
    if float(deep.mean()) < GLOW_IN:
        return False
    p, k = pts[deep], 6 + inside.argmax(0)[deep]
    lum = _fold(np.minimum, small).astype(np.float32)

    def at(o):  # the darkest channel o px outside the side
        return _sample(lum, p - o * n)[:, 0]

    desk = np.minimum(np.median(np.stack([at(16), at(20), at(24)]), axis=0),
                      np.median(np.stack([at(10), at(12), at(14)]), axis=0))
    fall = np.maximum(_sample(lum, p + k[:, None] * n)[:, 0] - desk, 1.0)
    near = float(np.median((at(0) - desk) / fall))
    far = float(np.median((at(3) - desk) / fall))
    return near >= GLOW_NEAR and far >= GLOW_FAR and not _edge_in_fade(at, fall)


def _glow_beyond(small: np.ndarray, pts: np.ndarray, n: np.ndarray) -> bool:
    """Whether beyond points along a side (``pts``, a blown-out patch 5 px inside them; ``n`` the side's inward normal)
    a glow fades over the desk (2026-12-07, branch finder-glow): in the darkest channel, of the fall from the patch to
    the desk 16-24 px out, at least GLOW_NEAR is left 3 px out and GLOW_FAR 5-7 px out (medians along the side). A
    reflection's outer rim fades over 10 px and more (tune2:edge_glare/1022 at 1280x720: 0.49 and 0.27). A page's own
    edge falls to the desk within a few px: a step even where it is curled (tune2:curled/1121 at 1080p: 0.05), a
    ramp only as wide as the photo's blur where it is defocused (tune2:defocus/1114 at 1080p: 0.31, but 0.02 6 px
    out). Both had a glare's blown-out patch just inside a side that is no step: finder-glare3's rule asked them."""
    lum = _fold(np.minimum, small).astype(np.float32)

    def at(o):  # the darkest channel o px outside the side
        return _sample(lum, pts - o * n)[:, 0]

    # The desk 16-24 px out, unless it is darker 10-14 px out: something paler (a second sheet, a light mat) lies
    # beyond the glow's end, and the fall measured to it would hide the fade (review of finder-glow)
    desk = np.minimum(np.median(np.stack([at(16), at(20), at(24)]), axis=0),
                      np.median(np.stack([at(10), at(12), at(14)]), axis=0))
    fall = np.maximum(at(-5) - desk, 1.0)
    near = float(np.median((at(3) - desk) / fall))
    far = float(np.median((np.mean(np.stack([at(5), at(6), at(7)]), axis=0) - desk) / fall))
    return near >= GLOW_NEAR and far >= GLOW_FAR and not _edge_in_fade(at, fall)


def _edge_in_fade(at, fall: np.ndarray) -> bool:
    """Whether the page's own edge crosses a glow fading beyond a side (2026-12-07, branch finder-glow2): ``at(o)`` the
    darkest channel o px outside the side's points, ``fall`` from the blown-out patch to the desk; the largest drop over
    2 px from 1 px inside to 5 px outside is at least GLOW_STEP of the fall (median along the side). A reflection's
    rim fades smoothly (tune*:edge_glare, glare rims: 0.14-0.36 of the fall); a reflection straddling the page's side
    leaves the page's edge a step in its light and the glow going on over the desk beyond (tune3:glare/1137 at 1080p:
    0.74), where the side is the page's edge: no rim."""
    # A step down that stays down: the level 2-4 px past a drop's start, at its brightest; a thin dark thing in the
    # glow past a rim (a cable, a pen, a seam between boards) is a dip the glow comes back from (review of finder-glow2)
    drops = np.stack([(at(o) - np.max(np.stack([at(o + 2), at(o + 3), at(o + 4)]), axis=0)) / fall
                      for o in range(-1, 4)])
    return float(np.median(drops.max(0))) >= GLOW_STEP


def _carries_either(strength: np.ndarray, way: np.ndarray, lines: int) -> bool:
    """Whether a side goes on past its corner as a step either way with its paper inside (2026-12-07, branch
    finder-glare): over the drifting lines ``_carries_on`` tries (``lines`` of them), the share of samples that step
    (``strength``, zero where the side's paper's colour is not just inside or another colour not just outside: the
    desk, not paper; on a grey granite the paper's colour is the desk's and its grains step either way) one way all
    along the line (``way``: the step's sign against the side's), whichever way, at least CARRY_SHARE on one line.
    ``_carries_on`` asks for it only where just beyond the side is the paper's colour too (the page's shaded part
    touches the answer; review of finder-glare: a grey sheet or a black notebook of the page's width squared to it
    beyond a strip of desk was asked).
    The page's part beyond a shade's edge across it (tune:edge_glare/1023 at 12 MP: the lower fifth greyed under a
    lamp) is the same paper, darker than a pale desk where it was lighter: the step flips, the paper stays. A cloth's
    tiles of the paper's colour step one way and the other along a line (tune3:curled/1101)."""
    s = strength.reshape(lines, -1)
    w = way.reshape(lines, -1)
    return bool(max(float((s * (w > 0)).mean(1).max()), float((s * (w < 0)).mean(1).max())) >= CARRY_SHARE)


def _asked_glare(small: np.ndarray) -> bool:
    """Whether an answer already asked about is to be looked at for carrying on past a side all the same (branch
    finder-glare12): a doubt or a line beyond capped it, but a row of print ending it above a reflection is as likely
    there; only where a lamp's reflection blows out some of the photo."""
    return bool(_blown_out(small).any())


def _follow_on(feat: np.ndarray, small: np.ndarray, quad: np.ndarray, asked: bool = False,
               printed: bool = False) -> np.ndarray | None:
    """The answer grown along both neighbours of a side past which they carry on (``_carries_on``; 2026-12-07, branch
    finder-glare2), or None. A row of print or a lamp's reflection's rim across the page ended the answer; the page's
    part beyond lies under the reflection, where no step outlines its far side, so ``_grow`` found nothing to end a
    strip at. Each neighbour's line is followed past its corner (in the texture-free view ``feat``, the step looked for
    within FOLLOW_DRIFT px of where it was last seen) as the same step with the same paper inside, through what is
    blown out all round (BLIND), until FOLLOW_GAP of it in turn neither steps so nor is blind, or the photo's
    border; out of the reflection only with the desk's colour beyond it (its rim's ramp steps too). The new side joins
    where the two end: where the step was last seen, or, where one neighbour's end lies in the reflection, as far as
    makes the page's two neighbours as long (a sheet's opposite sides are about equal), within the reflection; where
    both do, the reflection's middle along each. Taken only when both go on for FOLLOW_MIN of their length, stepping
    along CARRY_SHARE of what is seen, and the strip taken in is paper or blown out (FOLLOW_PAPER of it), and
    blown out for FOLLOW_GLARE of it (no reflection: the paper going on is another sheet under the page).
    An answer already ``asked`` (``_asked_glare``) is grown only where FOLLOW_ASKED of the strip's part not blown out
    is the paper's colour (review of finder-glare12: tune edge_glare/1121 at 12 MP, a card on white-and-pink stripes:
    the bottom neighbour followed past the card's corner along the stripes, whose white ones pass as paper; 0.77).
    With no reflection over the strip it is taken where the side crossed is a shade's soft edge with the paper beyond
    (``_shade_edge``; 2026-12-07, branch finder-shade: a shadow across a portrait page), or where it is the end of a
    block of print (``_print_past``; finder-occl9), the only growth taken where ``printed`` (an answer asked for
    another reason than a reflection). Where no side's two neighbours both go on, an answer not asked may be
    turned about a corner of its own (``_pivot_on``; finder-occl9)."""
    if small.ndim != 3:
        return None
    h, w = feat.shape[:2]
    q = order_corners(quad)
    c = q.mean(axis=0)
    clipped = _blown_out(small)
    blind = _blind(clipped)

    def walk(far: np.ndarray, corner: np.ndarray):
        length = float(np.hypot(*(corner - far)))
        d = (corner - far) / max(length, 1e-6)
        n = np.array([-d[1], d[0]])
        n = n if (c - corner) @ n > 0 else -n  # into the quad
        t = np.linspace(0.1, 0.9, 24)[:, None]
        pts = far + t * (corner - far)
        _, lum = _step(feat, pts[:, 0].astype(np.float32), pts[:, 1].astype(np.float32),
                       np.full(len(t), n[0], np.float32), np.full(len(t), n[1], np.float32))
        sign = 1.0 if np.median(lum) >= 0 else -1.0
        paper = np.median(_sample(feat, pts + CARRY_IN * n), axis=0)
        desk = np.median(_sample(feat, pts - CARRY_IN * n), axis=0)
        j = np.arange(1, int(min(FOLLOW_REACH * length, 2 * (w + h))) + 1, dtype=np.float64)
        p = corner + j[:, None] * d
        j = j[((p >= 2) & (p <= [w - 3, h - 3])).all(1).cumprod().astype(bool)]  # up to the photo's border
        if not len(j):
            return length, d, 0, 0, 0.0
        # the lines within FOLLOW_DRIFT px of the one the step was last seen on, FOLLOW_CHUNK px at a time (the side
        # found may be a degree off the page's: followed far, the page's side drifts off its line)
        offs = np.arange(-FOLLOW_DRIFT, FOLLOW_DRIFT + 0.5)
        off, last, blind_end, hits, looked, miss = 0.0, 0, 0, 0, 0, 0
        for k0 in range(0, len(j), FOLLOW_CHUNK):
            jj = j[k0:k0 + FOLLOW_CHUNK]
            e = (corner + jj[:, None, None] * d + (off + offs)[None, :, None] * n).reshape(-1, 2).astype(np.float32)
            m, lu = _step(feat, e[:, 0], e[:, 1], np.full(len(e), n[0], np.float32), np.full(len(e), n[1], np.float32))
            good = (m >= 0.04) & (lu * sign > 0) & (_chroma(_sample(feat, e + CARRY_IN * n) - paper) < WIDE_STEP)
            # … out of a reflection its rim's ramp steps too: there the page's side has the desk beyond it
            beyond = (good & (_chroma(_sample(feat, e - CARRY_IN * n) - desk) < WIDE_STEP)).reshape(len(jj), -1)
            good = good.reshape(len(jj), -1)
            at = np.round(corner + jj[:, None] * d).astype(int)
            dark = blind[at[:, 1], at[:, 0]]
            moved = []
            for k in range(len(jj)):
                row = good[k] if blind_end <= last else beyond[k]
                if row.any():
                    hits, looked, last, miss = hits + 1, looked + 1, k0 + k + 1, 0
                    moved.append(offs[int(np.argmax(np.where(row, m.reshape(len(jj), -1)[k], -1)))])
                elif dark[k]:
                    blind_end, miss = k0 + k + 1, 0
                else:
                    looked, miss = looked + 1, miss + 1
                    if miss > max(FOLLOW_GAP * length, 3):
                        break
            if miss > max(FOLLOW_GAP * length, 3):
                break
            if moved:
                off += float(np.median(moved))
        return length, d, last, (blind_end if blind_end > last else last), hits / max(looked, 1)

    best, best_area = None, abs(_area(q)) * (1 + FOLLOW_MIN)
    sharp: dict = {}  # the sides' sharpness, for a strip with no reflection over it (``_shade_edge``)
    walked: dict = {}  # each neighbour's walk, for ``_pivot_on`` after
    for s in range(4):
        a, b = q[s], q[(s + 1) % 4]
        ends = [walk(q[(s - 1) % 4], a)]
        walked[(s, 0)] = ends[0]
        if ends[0][2] < FOLLOW_MIN * ends[0][0]:
            continue  # (the other not followed: time)
        ends.append(walk(q[(s + 2) % 4], b))
        walked[(s, 1)] = ends[1]
        if min(e[2] for e in ends) < FOLLOW_MIN * min(e[0] for e in ends) or min(e[4] for e in ends) < CARRY_SHARE:
            continue
        # how long each neighbour becomes: as the other where its end is in the reflection (within what it allows)
        # (both in it: its middle, the side somewhere under it)
        open_ = [e for e in ends if e[3] == e[2]]
        full = max(e[0] + e[2] for e in open_) if open_ else None
        reach = [float(np.clip(full - e[0], e[2], e[3])) if full is not None else (e[2] + e[3]) / 2 for e in ends]
        new = _with_side(q, s, a + reach[0] * ends[0][1], b + reach[1] * ends[1][1])
        strip = np.array([a, b, new[(s + 1) % 4], new[s]])
        if not _convex(new) or not _convex(strip):
            continue
        mask = _quad_mask(feat.shape[:2], order_corners(strip)).astype(bool)
        ns = _inward(q, s)[3]
        paper = np.median(_sample(feat, a + np.linspace(0.1, 0.9, 24)[:, None] * (b - a) + CARRY_IN * ns), axis=0)
        vals = feat[mask]
        if not len(vals):
            continue
        ok = (_chroma(vals - paper) < WIDE_STEP) | clipped[mask].astype(bool)
        area = abs(_area(new))
        # … and the strip partly under the reflection: without one, paper going on past a side is another sheet of the
        # paper's colour under the page (a pad, a folder sharing two sides), which ``_carries_on`` asks about, not part
        # of this page (review of finder-glare2)
        glare = float(clipped[mask].mean())
        seen = ~clipped[mask].astype(bool)
        if asked and seen.any() and float((_chroma(vals[seen] - paper) < WIDE_STEP).mean()) < FOLLOW_ASKED:
            continue
        if printed:  # (an answer asked for another reason: only past a row of print)
            if ok.mean() >= FOLLOW_PAPER and area > best_area and not _near_border(new[[s, (s + 1) % 4]], w, h) and \
                    _print_past(small, feat, q, s, mask):
                best, best_area = new, area
            continue
        if ok.mean() >= FOLLOW_PAPER and area > best_area and \
                (glare >= FOLLOW_GLARE or (not _near_border(new[[s, (s + 1) % 4]], w, h) and
                                           (_shade_edge(small, q, s, float((_chroma(vals - paper) < WIDE_STEP).mean()),
                                                        sharp) or _print_past(small, feat, q, s, mask)))):
            best, best_area = new, area
    if best is None and not asked and not printed:
        best = _pivot_on(feat, small, q, walked, walk, clipped, sharp)
    return best


def _pivot_on(feat: np.ndarray, small: np.ndarray, q: np.ndarray, walked: dict, walk, clipped: np.ndarray,
              sharp: dict) -> np.ndarray | None:
    """The answer grown along the one neighbour of a side that goes on past its corner, turned about the side's other
    corner, which is the page's own (2026-12-07, branch finder-occl9), or None. A shade's soft edge running
    diagonally across the page from one of its corners ended the answer (tune2 occluder/1242: 0.874); ``_cut_past``
    asks about it (one neighbour going on, the other ending at its corner), but ``_follow_on`` grows only where both
    go on. Taken where the side is a ramp (below CRISP, ``_side_sharpness``), the neighbour went on for PIVOT_MIN of
    its length stepping along CARRY_SHARE of what was seen, and the other for under FOLLOW_MIN, nothing over the strip
    (a triangle) is blown out, PIVOT_PAPER of it is the paper's colour (the shaded paper darker, of its chroma) and
    the new corner is off the photo's border (``_near_border``)."""
    h, w = feat.shape[:2]
    best, best_area = None, abs(_area(q)) * (1 + PIVOT_MIN)
    for s in range(4):
        a, b = q[s], q[(s + 1) % 4]
        e0 = walked.get((s, 0)) or walk(q[(s - 1) % 4], a)
        e1 = walked.get((s, 1)) or walk(q[(s + 2) % 4], b)
        walked[(s, 0)], walked[(s, 1)] = e0, e1
        for k, (go, stay) in enumerate(((e0, e1), (e1, e0))):
            if go[2] < PIVOT_MIN * go[0] or go[4] < CARRY_SHARE or stay[2] >= FOLLOW_MIN * stay[0]:
                continue
            new = q.copy()
            i = s if k == 0 else (s + 1) % 4
            new[i] = q[i] + go[2] * go[1]
            strip = np.array([q[i], new[i], b if k == 0 else a])
            if not _convex(new) or _near_border(new[[i]], w, h):
                continue
            mask = _tri_mask(feat.shape[:2], strip)
            ns = _inward(q, s)[3]
            paper = np.median(_sample(feat, a + np.linspace(0.1, 0.9, 24)[:, None] * (b - a) + CARRY_IN * ns), axis=0)
            vals = feat[mask]
            if not len(vals) or clipped[mask].any():
                continue
            share = float((_chroma(vals - paper) < WIDE_STEP).mean())
            area = abs(_area(new))
            if "shares" not in sharp:
                sharp["shares"] = _side_sharpness(small, q)
            shares = sharp["shares"]
            if share < PIVOT_PAPER or area <= best_area or shares is None or shares[s] is None or shares[s] >= CRISP:
                continue
            best, best_area = new, area
    return best


def _print_past(small: np.ndarray, feat: np.ndarray, q: np.ndarray, s: int, strip: np.ndarray) -> bool:
    """Whether side ``s`` of the answer ``q``, past which ``_follow_on`` would grow it with no reflection over the
    strip (``strip``, a mask), is the end of a block of print, not the page's (2026-12-07, branch finder-occl9): print
    (ink: BAND_DARK darker than the texture-free view ``feat``) over PRINT_NEAR of a band PRINT_BAND px wide just beyond
    the side, and over PRINT_INK of the strip. A row of print or a code's edge across a page ended the answer (tune3
    occluder/1235: a card cut at its code's lower edge, 0.65). A sheet under the page going on past its edge (a pad, a
    folder: what FOLLOW_GLARE keeps out), or a second page laid edge to edge in line with it, has blank paper, the
    sheet's margin, just beyond the page's edge."""
    h, w = feat.shape[:2]
    a, b = q[s], q[(s + 1) % 4]
    ns = _inward(q, s)[3]
    band = _quad_mask((h, w), np.array([a, b, b - PRINT_BAND * ns, a - PRINT_BAND * ns])).astype(bool) & strip
    if not band.any():
        return False
    ink = (np.log(small[strip].astype(np.float32) + 16.0) - feat[strip]).mean(-1) < -BAND_DARK
    near = (np.log(small[band].astype(np.float32) + 16.0) - feat[band]).mean(-1) < -BAND_DARK
    if not (ink.mean() >= PRINT_INK and near.mean() >= PRINT_NEAR):
        return False
    # … and not the edge of a sheet lying over a printed one (review of finder-occl9: a page on a larger printed sheet,
    # in line with it): there the paper between the print beyond (the other sheet's) is a step from the paper inside
    # (its shade, the contact shadow); past a row of print on the same page it is the same paper
    log = np.log(small.astype(np.float32) + 16.0)
    plain = (log - feat).mean(-1) >= -BAND_DARK
    out = _quad_mask((h, w), np.array([a - 2 * ns, b - 2 * ns, b - 8 * ns, a - 8 * ns])).astype(bool) & plain
    inn = _quad_mask((h, w), np.array([a + 2 * ns, b + 2 * ns, b + 8 * ns, a + 8 * ns])).astype(bool) & plain
    if not out.any() or not inn.any():
        return False
    return bool(np.abs(np.median(log[out], axis=0) - np.median(log[inn], axis=0)).mean() <= PRINT_STEP)


def _tri_mask(shape: tuple, tri: np.ndarray) -> np.ndarray:
    """A boolean mask of the triangle ``tri`` (3 points, working px) in an image of ``shape``."""
    m = np.zeros(shape[:2], np.uint8)
    cv2.fillConvexPoly(m, np.round(tri).astype(np.int32), 1)
    return m.astype(bool)


def _near_border(pts: np.ndarray, w: int, h: int) -> bool:
    """Whether any of ``pts`` lies within SHADE_BORDER working px of the photo's border (review of finder-shade: a page
    on a same-width pad running out of the photo, a soft shadow's penumbra across the page near its end; the sides
    followed to the border, past the page's real end, unseen: grown onto the pad, 0.94 -> 0.78)."""
    return bool(((pts < SHADE_BORDER) | (pts > np.array([w - 1, h - 1]) - SHADE_BORDER)).any())


def _shade_edge(small: np.ndarray, q: np.ndarray, s: int, paper: float, sharp: dict) -> bool:
    """Whether side ``s`` of the answer ``q``, past which ``_follow_on`` grows it with no reflection over the strip,
    is a shade's soft edge across the page (2026-12-07, branch finder-shade): a ramp (at most SHADE_SOFT of its change
    in log colour within 3 px of it, ``_side_sharpness``) with the strip beyond the paper's colour over FOLLOW_ASKED of
    it (``paper``: that share). A shade (a soft shadow, a hand's shadow) across a portrait page ended the answer at
    its penumbra; the shaded part is the same paper, darker (tune2:soft_shadow/1002, tune2:occluder/1000 at
    1080x1920: 0.64, 0.77). A sheet under the page going on past it (the pad FOLLOW_GLARE keeps out) meets it at
    the page's edge, a step. ``sharp``: a dict the sides' sharpness is kept in, computed once per answer."""
    if paper < FOLLOW_ASKED:
        return False
    if "shares" not in sharp:
        sharp["shares"] = _side_sharpness(small, q)
    shares = sharp["shares"]
    return shares is not None and shares[s] is not None and shares[s] < SHADE_SOFT


def _grain(small: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """The photo's fine texture (2026-12-06 night, branch finder-card): the log of what the 9 px median takes away
    (grain, a weave; print), from the photo to its texture-free view ``flat`` (log colour, as ``_search`` made it),
    averaged over its colours and a few px (GRAIN_FLOOR at least). Paper and a card are smooth whatever their colour;
    a wood's grain is not, so a card's body of the desk's colour is outlined in it."""
    rest = cv2.absdiff(np.log(small.astype(np.float32) + 16.0), flat)
    rest = cv2.transform(rest, np.full((1, 3), 1 / 3, np.float32)) if rest.ndim == 3 else rest  # (the colours' mean)
    return np.log(cv2.GaussianBlur(rest, (0, 0), 2.0) + GRAIN_FLOOR)


def _smooth_beyond(small: np.ndarray, flat: np.ndarray | None, quad: np.ndarray) -> np.ndarray | None:
    """Whether the answer is part of a region smoother than the desk that goes on well beyond it (2026-12-06 night,
    branch finder-card): in the fine texture (``_grain``), the pixels GRAIN_STEP below the desk's level (its median in
    a ring GRAIN_RING of the answer's narrow way beyond it) or above it (print), closed over print (GRAIN_CLOSE), that
    reach into the answer, have smooth pixels beyond it of GRAIN_MORE of its area, of the desk's colour (GRAIN_ALIKE,
    in the texture-free view ``flat``). A card's body of the desk's colour beyond its band is such a region on wood
    (tune2:occluder/1001 on maple: the band at 0.85); a page's sides end where the grain begins, and a hand or a phone
    over a page is smooth but not of the wood's colour.
    Then the region, opened (a pen lying across the card's side is thinner than GRAIN_CLOSE), is the card: its hull's
    four corners are returned when they are page-shaped, hold QUIET_INSIDE of the answer and the region fills
    GRAIN_FILL of them, the answer at their end (two of its corners on their outline) and at most GRAIN_BAND of
    them: a band. None otherwise: a region that runs off the photo (a desk out of focus) or outlines no card with the
    answer as its band (a board under the page, an envelope beside it) asks nothing (review-card)."""
    if flat is None:
        return None
    grain = _grain(small, flat)
    h, w = grain.shape[:2]
    q = order_corners(quad)
    reach = GRAIN_RING * float(np.linalg.norm(q - np.roll(q, 1, 0), axis=1).min())
    inside = _quad_mask((h, w), q)
    ring = (cv2.distanceTransform(1 - inside, cv2.DIST_L2, 3) <= reach) & (inside == 0)
    if ring.sum() < 20:
        return None
    desk = np.median(grain[ring])
    smooth = grain < desk - GRAIN_STEP
    unlike = (smooth | (grain > desk + GRAIN_STEP)).astype(np.uint8)  # paper, or print on it
    unlike = cv2.morphologyEx(unlike, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (GRAIN_CLOSE,) * 2))
    _, labels = cv2.connectedComponents(unlike, connectivity=4)
    joined = np.zeros(labels.max() + 1, bool)
    joined[labels[inside > 0]] = True
    joined[0] = False
    joined = joined[labels]  # the regions reaching into the answer
    beyond = joined & (inside == 0) & smooth
    if beyond.sum() < GRAIN_MORE * float(inside.sum()):
        return None
    # … within the photo: a desk blurred out of focus, or darkened, runs off it; a card lies on the desk (review-card)
    if beyond[0].any() or beyond[-1].any() or beyond[:, 0].any() or beyond[:, -1].any():
        return None
    # … of the desk's colour (a hand or a phone over the page is smooth too, but not wood-coloured)
    colour = np.median(flat[beyond], axis=0) - np.median(flat[ring & ~smooth], axis=0)
    if float(np.linalg.norm(colour)) >= GRAIN_ALIKE:
        return None
    region = (joined | (inside > 0)).astype(np.uint8)
    region = cv2.morphologyEx(region, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (GRAIN_CLOSE,) * 2))
    contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return None
    hull = cv2.convexHull(max(contours, key=cv2.contourArea))
    whole = _hull_quad(hull)
    if whole is None or not _page_shaped(whole) or not _inside(q, whole) or \
            region.sum() < GRAIN_FILL * abs(_area(whole)):
        return None
    # … with the answer at its end and a small part of it (a card's band), not amid it (a page lying on a board or
    # folder of the desk's colour: none of its corners on the board's outline) nor half of it (a page beside an
    # envelope of the desk's colour, the closing bridging the grain between them) (review-card)
    ends = sum(cv2.pointPolygonTest(whole.astype(np.float32).reshape(-1, 1, 2), (float(x), float(y)), True) < GRAIN_END
               for x, y in q)
    if ends < 2 or abs(_area(q)) > GRAIN_BAND * abs(_area(whole)):
        return None
    return order_corners(whole)


def _printed_page(small: np.ndarray, found) -> bool:
    """Whether an answer too unflat to be a page by its confidence is a page full of print: its outline a
    near-perfect step all round (near-step score and the wide check's every side at least PRINTED_OUTLINE) and a
    plain rim just inside it (PRINTED_RIM px in across its narrow way, the quad shrunk about its centre) paler by
    PRINTED_PALER (log lightness, median) than the inside beyond it.
    Print is ink on paper, so a printed document's margin is its palest part; a keyboard's bezel, as perfectly
    outlined, is darker than its keys."""
    if found[3] < PRINTED_OUTLINE:
        return False
    views = found[5] if len(found) > 5 else None
    if views is None:
        return False
    _, evidence, _ = _judge(views[0], found[0])
    if min(evidence[0], evidence[2]) < PRINTED_OUTLINE:
        return False
    light = np.log(small.astype(np.float32) + 16.0)
    light = light.mean(-1) if light.ndim == 3 else light
    q = order_corners(found[0])
    c = q.mean(0)
    span = float(np.linalg.norm(q - np.roll(q, 1, 0), axis=1).min()) / 2  # half the shortest side

    def mask(inset):
        return _quad_mask(light.shape, c + (q - c) * max(0.0, 1.0 - inset / max(span, 1.0))) > 0

    rim = mask(PRINTED_RIM[0]) & ~mask(PRINTED_RIM[1])
    inside = mask(2 * PRINTED_RIM[1])
    if rim.sum() < 20 or inside.sum() < 20:
        return False
    return float(np.median(light[rim]) - np.median(light[inside])) >= PRINTED_PALER


def _regrow(small: np.ndarray, quad: np.ndarray, views=None) -> np.ndarray:
    """``_grow`` on a quad in working pixels, with the texture-free view's steps, calm and gradient (``views``, as
    ``_search`` made them; made here when not given)."""
    if views is not None:
        return _grow(views[0], views[1], quad.astype(np.float32), views[2])
    flat_feat = _texture_free(small)
    gx = cv2.Sobel(flat_feat, cv2.CV_32F, 1, 0, ksize=3) * 0.125
    gy = cv2.Sobel(flat_feat, cv2.CV_32F, 0, 1, ksize=3) * 0.125
    grad = np.sqrt(_csum(gx * gx + gy * gy)) if flat_feat.ndim == 3 else np.sqrt(gx * gx + gy * gy)
    steps = cv2.GaussianBlur(flat_feat, (0, 0), 1.0)
    return _grow(steps, (grad < FLAT_GRADIENT / 2).astype(np.uint8), quad.astype(np.float32), (gx, gy))


def _seam(small: np.ndarray, quad: np.ndarray, image: np.ndarray | None = None) -> bool:
    """Whether the answer is two things side by side, or one thing divided all across (two sheets, a keyboard):
    a line runs across it from side to side, SEAM_MIDDLE or more in from the sides parallel to it, along which
    the photo differs from both sides of it (a ridge or a valley, 2-16 px wide) while they are alike, on
    SEAM_SHARE of its length and of each end's SEAM_END (print ends at the page's margins), and either

    * the line is the desk showing through: beyond both its ends, outside the answer, the photo is nearer the
      line's colour than the line is to its sides (the gap between two sheets, which the line search outlines as
      one page: its outline is a page's and both sheets' paper is flat), or
    * such lines run both ways (a grid: the rows and columns between a keyboard's keys).

    A row of print on a page is neither: it is ink on paper, unlike the desk beyond the margins, and no column
    of print runs all the way across too. A thin rule, a crease or squared paper's lines running to the paper's edge
    blur at working size to a grey that can match a desk: a line counts only with a calm band on one side of it
    (``_quiet_beside``: a sheet's margin, a key's top; a grid's lines have each other beside them) and, for the
    first kind, with the desk showing through it at full resolution all along (``_desk_in_gap``, given ``image``).
    The answer is rectified (its own perspective undone), so the lines
    are rows and columns; a row a pixel off either way counts (two sheets are seldom exactly parallel)."""
    q = order_corners(quad).astype(np.float32)
    wq = int(round(max(np.hypot(*(q[1] - q[0])), np.hypot(*(q[2] - q[3])))))
    hq = int(round(max(np.hypot(*(q[3] - q[0])), np.hypot(*(q[2] - q[1])))))
    if min(wq, hq) < 4 * MIN_SEGMENT:
        return False
    h, w = small.shape[:2]
    both = 0
    for n, across in ((hq, False), (wq, True)):             # seams along rows, then along columns
        # The answer rectified: n px across the seams looked for, SEAM_SAMPLES along them (a share is wanted).
        m = SEAM_SAMPLES
        size = (n, m) if across else (m, n)
        dst = np.array([[0, 0], [size[0] - 1, 0], [size[0] - 1, size[1] - 1], [0, size[1] - 1]], np.float32)
        to_rect = cv2.getPerspectiveTransform(q, dst)
        view = cv2.warpPerspective(small, to_rect, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        view = np.log(view.astype(np.float32) + 16.0)
        view = view if view.ndim == 3 else view[..., None]
        if across:
            view = view.transpose(1, 0, 2)
        ridge = np.zeros((n, m), bool)
        for k in (2, 3, 5, 8):
            mid, before, after = view[k:n - k], view[:n - 2 * k], view[2 * k:]
            d1 = _cnorm(mid - before)
            d2 = _cnorm(mid - after)
            alike = _cnorm(before - after)
            ridge[k:n - k] |= (np.minimum(d1, d2) > SEAM_STEP) & (alike < 0.5 * np.minimum(d1, d2))
        # A row a pixel off either way (two sheets at a slight angle).
        ridge = cv2.dilate(ridge.astype(np.uint8), np.ones((3, 1), np.uint8)).astype(bool)
        lo, hi = int(SEAM_MIDDLE * n), int(math.ceil((1 - SEAM_MIDDLE) * n))
        end = max(2, int(round(SEAM_END * m)))
        rows = ridge[lo:hi, 1:m - 1]
        ok = (rows.mean(1) >= SEAM_SHARE) & (np.minimum(rows[:, :end].mean(1), rows[:, -end:].mean(1)) >= SEAM_SHARE)
        seams = lo + np.flatnonzero(ok)
        # Beside a gap between two sheets, or between a keyboard's keys, is a calm band (each sheet's margin, a
        # key's top); a printed line or a crease has its own page's print or its neighbours (a grid, ruled or
        # squared paper) beside it. The line's middle: its darkest-or-brightest row within a px.
        middles = []
        for r in seams[np.argsort(np.abs(seams - n / 2))][:SEAM_TRIES]:
            band = view[max(0, r - 1):r + 2]
            k = int(np.argmax(np.linalg.norm(band - np.median(view[max(0, r - 6):r + 7], axis=0), axis=-1).mean(1)))
            r0 = max(0, r - 1) + k
            if r0 not in middles:
                middles.append(r0)
        wide = [r0 for r0 in middles if _quiet_beside(view, ridge, r0, SEAM_QUIET_GRID)]
        middles = [r0 for r0 in middles if _quiet_beside(view, ridge, r0, SEAM_QUIET)]
        if not middles:
            continue
        both += 1 if wide else 0
        if both == 2:
            return True
        back = np.linalg.inv(to_rect)
        for r0 in middles:
            # The line's colour and its sides'.
            centre = np.median(view[r0], axis=0)
            sides = np.median(np.concatenate([view[max(0, r0 - 8):max(0, r0 - 4)], view[r0 + 5:r0 + 9]]), axis=(0, 1))
            # Beyond both its ends, outside the answer: 4-8 px on along the line.
            ends = np.array([[0, r0], [m - 1, r0]], np.float32) if not across else np.array([[r0, 0], [r0, m - 1]],
                                                                                                  np.float32)
            p = cv2.perspectiveTransform(ends[None], back)[0]
            u = (p[1] - p[0]) / max(float(np.hypot(*(p[1] - p[0]))), 1e-6)
            t = np.array([4.0, 6.0, 8.0])[:, None]
            out = np.concatenate([p[0] - t * u, p[1] + t * u]).astype(np.float32)
            if ((out < 0) | (out > [w - 1, h - 1])).any():
                continue
            desk = np.log(cv2.remap(small, out[:, :1], out[:, 1:], cv2.INTER_LINEAR).reshape(6, -1)
                          .astype(np.float32) + 16.0)
            near = max(np.linalg.norm(np.median(desk[:3], 0) - centre), np.linalg.norm(np.median(desk[3:], 0) - centre))
            if near < SEAM_DESK * np.linalg.norm(sides - centre) and (
                    image is None or _desk_in_gap(image, small.shape, back, r0, m, across, out)):
                return True
    return False


def _desk_in_gap(image: np.ndarray, work_shape, back: np.ndarray, r0: int, m: int, across: bool,
                 out: np.ndarray) -> bool:
    """Whether the line through row ``r0`` of the rectified answer (``back``: rectified to working px) shows the desk
    at full resolution all along it: across it, the sample most unlike its sides (5 working px away), within 2 working
    px of its middle, is as near the desk beyond its ends (``out``, working px: three points beyond each end) as
    SEAM_GAP_DESK of its distance to the sides, at SEAM_SHARE of the points along it (margins included: a crease
    through a printed rule is the rule's colour there, shaded paper in the margins). At working size a thin
    printed rule or a crease blurs to a grey between paper and ink, which can match a mid or light desk (and a black
    rule a dark desk); at full resolution a gap between two sheets is the desk itself, a rule the ink's colour."""
    h, w = image.shape[:2]
    sx, sy = w / work_shape[1], h / work_shape[0]
    along = np.linspace(0.03, 0.97, 32) * (m - 1)
    rect = [np.stack([np.full_like(along, r0 + d), along], 1) if across else
            np.stack([along, np.full_like(along, r0 + d)], 1) for d in (-1.0, 0.0, 1.0)]
    full = [(cv2.perspectiveTransform(r[None].astype(np.float32), back)[0] + 0.5) * [sx, sy] - 0.5 for r in rect]
    normal = (full[2] - full[0]) / 2.0                                     # full px per rectified row
    reach = float(np.median(np.hypot(*normal.T))) * 5.0                    # 5 working px either side
    unit = normal / np.maximum(np.hypot(*normal.T), 1e-6)[:, None]
    steps = np.arange(-reach, reach + 0.5, 1.0)
    pts = (full[1][:, None] + steps[None, :, None] * unit[:, None]).astype(np.float32)   # (P, J, 2)
    prof = cv2.remap(image, pts[..., 0], pts[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    prof = np.log(prof.astype(np.float32) + 16.0)
    prof = prof if prof.ndim == 3 else prof[..., None]
    sides = (prof[:, :2].mean(1) + prof[:, -2:].mean(1)) / 2                # (P, C)
    middle = np.abs(steps) <= reach * 0.4                                  # within 2 working px of its middle
    inner = prof[:, middle]
    far = np.argmax(np.linalg.norm(inner - sides[:, None], axis=-1), axis=1)
    centre = inner[np.arange(len(prof)), far]                              # (P, C)
    o = ((out + 0.5) * [sx, sy] - 0.5).astype(np.float32)
    desk = np.log(cv2.remap(image, o[:, :1], o[:, 1:], cv2.INTER_LINEAR).reshape(len(o), -1).astype(np.float32) + 16.0)
    half = len(o) // 2
    near = np.maximum(np.linalg.norm(np.median(desk[:half], 0) - centre, axis=-1),
                      np.linalg.norm(np.median(desk[half:], 0) - centre, axis=-1))
    return float((near < SEAM_GAP_DESK * np.linalg.norm(sides - centre, axis=-1)).mean()) >= SEAM_SHARE


def _quiet_beside(view: np.ndarray, ridge: np.ndarray, r0: int, reach: tuple[int, int]) -> bool:
    """Whether the rectified answer ``view`` (rows across the line, log colour) is calm on either side of the line
    through row ``r0`` (its extent: the rows around it that are ridge on half its length) from reach[0] to reach[1]
    px beyond its edges: in SEAM_QUIET_SHARE of its columns no channel changes by SEAM_CALM across that band
    (paper's margin or a key's top, not print, a neighbouring line or a crease's shading)."""
    a, b = reach
    wide = ridge.mean(1) >= 0.5
    top = bottom = r0
    while top > 0 and wide[top - 1]:
        top -= 1
    while bottom < len(wide) - 1 and wide[bottom + 1]:
        bottom += 1
    for band in (view[max(0, top - b):max(0, top - a + 1)], view[bottom + a:bottom + b + 1]):
        if len(band) < (b - a + 1) // 2:
            continue
        spread = (band.max(0) - band.min(0)).max(-1)                     # per column along the line
        if (spread < SEAM_CALM).mean() >= SEAM_QUIET_SHARE:
            return True
    return False


def _at_border(quad: np.ndarray, w: int, h: int) -> bool:
    """Whether a side lies along the photo's border (both its ends within BORDER_NEAR of the same border) or a
    corner is outside the photo: the page may run on beyond the photo, or the border was taken for a side
    (nothing can be seen past it)."""
    near = BORDER_NEAR * max(w, h)
    size = np.array([w - 1, h - 1])
    if ((quad < -0.5) | (quad > size + 0.5)).any():
        return True
    low, high = quad < near, quad > size - near                    # (4, 2): per corner and axis
    ends = [(s, (s + 1) % 4) for s in range(4)]
    return any((low[a] & low[b]).any() or (high[a] & high[b]).any() for a, b in ends)


def _poly_mask(shape, q: np.ndarray) -> np.ndarray:
    """The pixels inside the convex quadrilateral ``q``."""
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, np.round(q * 4).astype(np.int32), 1, cv2.LINE_8, shift=2)
    return mask.astype(bool)


def _turn(outer: np.ndarray, inner: np.ndarray) -> float:
    """How far ``inner`` is turned against ``outer`` in ``outer``'s own plane, degrees (0 when its sides do not all
    turn the same way). ``outer`` is rectified to a rectangle of its sides' lengths; each side of ``inner`` is then
    compared with the same side of the rectangle: a printed box, a panel or a label printed on a document is parallel
    to it (printed, cut and folded together), a document put down on a mat by hand lies at an angle."""
    angles, _ = _side_turns(outer, inner)
    if not ((angles > 0).all() or (angles < 0).all()):
        return 0.0
    return float(np.min(np.abs(angles)))


def _rough_turn(outer: np.ndarray, inner: np.ndarray) -> float:
    """How far ``inner`` is turned against ``outer`` (as ``_turn``, degrees), for a quad found at working size: the
    mean of its four sides' turns weighted by their lengths, so one side off does not decide it. A receipt on a sheet
    is about 65 px wide at working size, and a page's side may be polished there onto its first row of print: that
    one side turned the other way, and ``_turn`` (every side the same way) was 0 for documents turned by 1.8-2.2
    degrees (finder-nested12: tune2 nested/1001 and 1007 at 12 MP). Only a first sieve: the caller checks ``_turn``
    of both quads refined at full size (NEST_TURN)."""
    angles, lengths = _side_turns(outer, inner)
    return float(abs(np.sum(angles * lengths)) / max(float(np.sum(lengths)), 1e-9))


def _side_turns(outer: np.ndarray, inner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each side of ``inner`` turned against the same side of ``outer`` rectified to a rectangle of its sides'
    lengths (degrees, signed), and the sides' lengths there (``_turn``, ``_rough_turn``)."""
    o, i = order_corners(outer).astype(np.float32), order_corners(inner).astype(np.float32)
    ww = 0.5 * (np.linalg.norm(o[1] - o[0]) + np.linalg.norm(o[2] - o[3]))
    hh = 0.5 * (np.linalg.norm(o[3] - o[0]) + np.linalg.norm(o[2] - o[1]))
    rect = np.array([[0, 0], [ww, 0], [ww, hh], [0, hh]], np.float32)
    r = cv2.perspectiveTransform(i[None], cv2.getPerspectiveTransform(o, rect))[0]
    angles, lengths = [], []
    for s, axis in enumerate(((1, 0), (0, 1), (-1, 0), (0, -1))):
        d = r[(s + 1) % 4] - r[s]
        angles.append(math.degrees(math.atan2(axis[0] * d[1] - axis[1] * d[0], axis[0] * d[0] + axis[1] * d[1])))
        lengths.append(float(np.hypot(d[0], d[1])))
    return np.array(angles), np.array(lengths)


def _when_asked(make):
    """``make()``'s value, made the first time it is asked for and kept: a view a step needs only on some paths."""
    kept = []

    def value():
        if not kept:
            kept.append(make())
        return kept[0]
    return value


def _polished_below(quad: np.ndarray, least: float) -> bool:
    """Whether ``_polish`` surely leaves ``quad`` smaller than ``least`` (area, px²): each of its three stages
    refuses a quad over twice the area it starts from (and an early end keeps the last one), so it ends at most
    POLISH_MOST times ``quad`` as ordered (with a margin of NEST_AREA_SLACK for rounding; keep POLISH_MOST in step with
    ``_polish``'s stages). Asked before polishing, which costs about half of ``_on_object``."""
    return POLISH_MOST * abs(_area(order_corners(quad))) * (1.0 + NEST_AREA_SLACK) < least


def _inner_region(views, q: np.ndarray, least: float = 0.0):
    """The largest region inside ``q`` that is not its band (calm, near the colour just inside its sides and
    connected to them), as a page-shaped quadrilateral polished onto its edge and within ``q``; and the band. None
    as well when its quadrilateral, polished, would surely be smaller than ``least`` (px²: the caller's NEST_MIN).
    ``views``: the crop's texture-free view (log colour), its calm pixels, and a function giving the view blurred 1 px
    (made only once a region is polished)."""
    flat, calm, feat_of = views[:3]
    edge_q, ring_q = _moved_quad(q, [-NEST_EDGE] * 4), _moved_quad(q, [-NEST_RING] * 4)
    if edge_q is None or ring_q is None or abs(_area(ring_q)) < 0.5 * abs(_area(q)):
        return None
    inside = _poly_mask(flat.shape, edge_q)
    ring = inside & ~_poly_mask(flat.shape, ring_q)
    if not ring.any():
        return None
    c0 = np.median(flat[ring][::4], axis=0)
    off = np.abs(flat - c0)
    alike = inside & calm & (np.maximum(np.maximum(off[..., 0], off[..., 1]), off[..., 2]) < NEST_ALIKE)
    _, labels = cv2.connectedComponents(alike.astype(np.uint8), connectivity=4)
    touching = np.zeros(int(labels.max()) + 1, bool)
    touching[labels[ring & alike]] = True
    touching[0] = False
    band = touching[labels]
    rest = cv2.morphologyEx((inside & ~band).astype(np.uint8), cv2.MORPH_OPEN,  # off thin strips: a lip's shading
                            cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7)))
    count, comp, stats, _ = cv2.connectedComponentsWithStats(rest, connectivity=4)
    if count < 2:
        return None
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    contours, _ = cv2.findContours((comp == biggest).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    iq = _hull_quad(cv2.convexHull(max(contours, key=cv2.contourArea)))
    if iq is None:
        return None
    # Anticipates the caller's NEST_MIN test: ``_on_object`` returns None both when this returns None and when the
    # polished quad is under ``least``, and the polished quad cannot reach ``least`` (``_polished_below``), so this
    # None changes no answer. A print block, a photo or a stamp inside a page (a third of the regions polished before)
    # is dropped here unpolished.
    if _polished_below(iq, least):
        return None
    iq = order_corners(_polish(feat_of(), iq))
    if not _page_shaped(iq) or not _convex(iq):
        return None
    common, _ = cv2.intersectConvexConvex(iq.astype(np.float32), q.astype(np.float32))
    if common < 0.97 * abs(_area(iq)):
        return None
    return iq, band


def _hugged(band: np.ndarray, iq: np.ndarray) -> bool:
    """Whether the band lies just outside at least three sides of ``iq`` (the fourth may touch the answer's)."""
    near = cv2.dilate(band.astype(np.uint8), np.ones((5, 5), np.uint8))
    hug = []
    for s in range(4):
        a, b, _, n = _inward(iq, s)
        pts = np.rint(a + np.linspace(0.1, 0.9, 16)[:, None] * (b - a) - NEST_GAP * n).astype(int)
        ok = (pts >= 0).all(1) & (pts < [band.shape[1], band.shape[0]]).all(1)
        hug.append(float(near[pts[ok, 1], pts[ok, 0]].sum() / len(pts)))
    return sum(g >= NEST_HUG for g in hug) >= 3


def _printed_share(crop: np.ndarray, feat: np.ndarray, where: np.ndarray) -> float:
    """The share of ``where`` that is print: darker by NEST_INK (log colour, any channel) in the photo as it is than
    in the texture-free view ``feat`` (text, a table's rules, stamps; a cutting mat's grid is lighter than the mat)."""
    raw = cv2.GaussianBlur(np.log(crop.astype(np.float32) + 16.0), (0, 0), 1.0)
    d = (feat - raw)[where]
    return float((d.max(-1) > NEST_INK).mean())


def _crop_median(crop: np.ndarray, flat_view: np.ndarray | None, x0: int, y0: int) -> np.ndarray:
    """``cv2.medianBlur(crop, max(MEDIANS))`` of the crop at ``x0, y0`` of the working image, the same values to the
    bit, taken from the search's median of the whole working image ``flat_view`` (None: computed) where it can be:
    the crop's own median was about a third of ``_on_object``'s time. A pixel NEST_CROP_REACH or more inside
    every cut of the crop sees the same neighbourhood in both; one nearer a cut sees the crop's replicated border
    there, so those strips are taken again from strips of the crop NEST_CROP_STRIP wide (their own cut far enough
    from the part kept). Where the crop's edge is the image's, both replicate the same border."""
    k, r, wide = max(MEDIANS), NEST_CROP_REACH, NEST_CROP_STRIP
    hh, ww = crop.shape[:2]
    if flat_view is None or flat_view.ndim != crop.ndim or min(hh, ww) < 2 * wide:
        return cv2.medianBlur(crop, k)
    out = flat_view[y0:y0 + hh, x0:x0 + ww].copy()
    if x0 > 0:
        out[:, :r] = cv2.medianBlur(np.ascontiguousarray(crop[:, :wide]), k)[:, :r]
    if x0 + ww < flat_view.shape[1]:
        out[:, -r:] = cv2.medianBlur(np.ascontiguousarray(crop[:, -wide:]), k)[:, -r:]
    if y0 > 0:
        out[:r] = cv2.medianBlur(np.ascontiguousarray(crop[:wide]), k)[:r]
    if y0 + hh < flat_view.shape[0]:
        out[-r:] = cv2.medianBlur(np.ascontiguousarray(crop[-wide:]), k)[-r:]
    return out


def _on_object(small: np.ndarray, quad: np.ndarray, flat_view: np.ndarray | None = None) -> np.ndarray | None:
    """The document lying on the answer, when the answer is an object under it (a mat, a tray, a clipboard, a
    folder, a larger sheet), or None (finder-nested9).

    Inside the answer the band is what is calm in the texture-free view, near the colour just inside its sides and
    connected to them; the largest region left is what lies inside (a tray's floor inside its lip: the search goes
    on inside it, three levels at most). It is a document on the answer when the band is unprinted and hugs three of
    its sides, its outline is a page's (near-step score >= RIM_OUTLINE) and it is turned against the answer by
    NEST_ROUGH_TURN to NEST_TURN_MAX degrees in the answer's plane (``_rough_turn``; the caller checks NEST_TURN with
    ``_turn`` once both are refined at full size), and it is paper no darker than the band by NEST_DARKER (a sticky
    note, a photo or a grey copy stuck on a white page is darker: review of finder-nested9). What is printed on a
    document — a white box on a coloured form, a certificate's border, a card's panel, a label — is printed parallel
    to its sides; a document put down on a mat by hand is not. A document put down square is not told from a printed
    margin."""
    h, w = small.shape[:2]
    outer = order_corners(quad)
    x0, y0 = np.clip(np.floor(outer.min(0)).astype(int) - 1, 0, None)
    x1, y1 = np.minimum(np.ceil(outer.max(0)).astype(int) + 2, [w, h])
    if x1 - x0 < 16 or y1 - y0 < 16:
        return None
    at = np.array([x0, y0], float)
    crop = small[y0:y1, x0:x1]
    if crop.ndim == 2:
        crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2BGR)
    flat = np.log(_crop_median(crop, flat_view, x0, y0).astype(np.float32) + 16.0)
    gx = cv2.Sobel(flat, cv2.CV_32F, 1, 0, ksize=3) * 0.125
    gy = cv2.Sobel(flat, cv2.CV_32F, 0, 1, ksize=3) * 0.125
    g2 = gx * gx + gy * gy  # (channel by channel: numpy's reductions over a short last axis are slow)
    calm = g2[..., 0] + g2[..., 1] + g2[..., 2] < NEST_CALM ** 2
    feat_of = _when_asked(lambda: cv2.GaussianBlur(flat, (0, 0), 1.0))  # (not needed when nothing is polished)
    views = (flat, calm, feat_of)
    q = outer - at
    outer_area = abs(_area(q))
    for _ in range(3):
        found = _inner_region(views, q, NEST_MIN * outer_area)
        if found is None:
            return None
        iq, band = found
        if abs(_area(iq)) < NEST_MIN * outer_area:
            return None
        if _hugged(band, iq) and NEST_ROUGH_TURN <= _rough_turn(q, iq) <= NEST_TURN_MAX:
            edge_q, grown = _moved_quad(q, [-NEST_EDGE] * 4), _moved_quad(iq, [2.0] * 4)
            if edge_q is None or grown is None:
                return None
            between = _poly_mask(flat.shape, edge_q) & ~_poly_mask(flat.shape, grown)
            if not between.any() or _printed_share(crop, feat_of(), between) > NEST_PRINTED:
                return None
            if _judge(feat_of(), iq)[1][0] < RIM_OUTLINE:
                return None
            shrunk = _moved_quad(iq, [-NEST_RING] * 4)
            if shrunk is None:
                return None
            paper = np.median(flat[_poly_mask(flat.shape, shrunk)][::4], axis=0)
            band_colour = np.median(flat[band][::4], axis=0)
            if (paper - band_colour).min() < -NEST_DARKER:
                return None
            return iq + at
        q = iq
    return None


def _beyond(small: np.ndarray, quad: np.ndarray, score: float) -> tuple[np.ndarray, float]:
    """The answer, or the document around it; and the confidence, lowered when the answer may be inside one.

    A card's or a certificate's print often ends a few mm inside its edge in a strong step all round: the quad
    inside it is as well outlined as a page. Beyond each side the photo as it is (a rim is a few px at working
    size) is searched for the lines that step the same way along RIM_SHARE of them. When every side has one within
    RIM_REACH of the quad's span with a calm band before it (paper: no print, no texture), the outermost such
    outline is the document's edge and the answer, if it is well outlined (RIM_OUTLINE). When a well-outlined
    quad encloses the answer otherwise (within ENCLOSE_REACH: a photo block or a print band inside a card), or
    three sides have such a rim of one colour, the answer may be part of a document: the operator is asked
    (FRAME_DOUBT)."""
    feat = _raw_view(small)
    h, w = feat.shape[:2]
    q = order_corners(quad)
    hits = _outlines_beyond(feat, q)
    if hits is None:
        return quad, score
    spans = [float(np.median([abs((q[(s + k) % 4] - q[s]) @ _inward(q, s)[3]) for k in (2, 3)])) for s in range(4)]

    def outline(offsets, polish=False):
        outer = _moved_quad(q, offsets)
        if outer is not None and polish:  # far out, a side's direction differs (perspective): onto the edge
            outer = _polish(feat, outer)
        if outer is None or not _page_shaped(outer) or (outer < 0).any() or (outer > [w - 1, h - 1]).any():
            return None, (0.0,)
        _, evidence, _ = _judge(feat, outer)
        return outer, evidence

    rims = [[o for o, calm, _ in side if calm] for side in hits]
    # Where one rim is not calm (a stamp or a pen over it) but the other three are, of one colour, the line beyond it as
    # far out as theirs closes the outline (``_covered_rim``, 2026-12-06 night, finder-cloth).
    for offsets in ([r[-1] for r in rims] if all(rims) else None, _covered_rim(hits, rims)):
        outer, evidence = outline(offsets) if offsets is not None else (None, (0.0,))
        # … and only when the outer outline is itself as sure as the answer it replaces (at most CONFIDENT).
        if outer is not None and evidence[0] >= RIM_OUTLINE and _confidence(*evidence) >= min(score, CONFIDENT):
            return outer, min(score, _confidence(*evidence))
    if all(any(o <= RIM_REACH * sp + 1 for o, _, _ in side) for side, sp in zip(hits, spans, strict=True)):
        return quad, min(score, FRAME_DOUBT * CONFIDENT)  # a parallel line close beyond every side: a frame
    if sum(bool(side) for side in hits) >= 3:  # a side without a line beyond it: polishing may find one
        for offsets in itertools.islice(itertools.product(*[[o for o, _, _ in side] or [0.0] for side in hits]), 8):
            outer, evidence = outline(offsets, polish=True)
            if outer is not None and evidence[0] >= RIM_OUTLINE and _area(outer) > CONTAIN_GROW * _area(q):
                if _printed_band(small, outer, q):  # a block inside a printed card: the card, asked (finder-print)
                    return outer, min(score, FRAME_DOUBT * CONFIDENT)
                return quad, min(score, FRAME_DOUBT * CONFIDENT)
    colours = [next(c for o, calm, c in side if calm) for side in hits if any(calm for _, calm, _ in side)]
    if len(colours) >= 3 and max(np.linalg.norm(c - np.median(colours, 0)) for c in colours) <= RIM_ALIKE:
        return quad, min(score, FRAME_DOUBT * CONFIDENT)
    return quad, score


def _gradient(f: np.ndarray) -> np.ndarray:
    """The gradient's magnitude of a float32 view (log colour), per px: Sobel / 8, over its channels."""
    gx = cv2.Sobel(f, cv2.CV_32F, 1, 0, ksize=3) * 0.125
    gy = cv2.Sobel(f, cv2.CV_32F, 0, 1, ksize=3) * 0.125
    return np.sqrt(_csum(gx * gx + gy * gy)) if f.ndim == 3 else np.sqrt(gx * gx + gy * gy)


def _raw_view(small: np.ndarray) -> np.ndarray:
    """The photo as it is at working size, in log colour, blurred 1 px: the view ``_search``'s outline search and the
    checks beyond an answer (``_beyond``, ``_paper_beyond``) read (no median: a printed rim a few px wide stays)."""
    return cv2.GaussianBlur(np.log(small.astype(np.float32) + 16.0), (0, 0), 1.0)


def _texture_free(small: np.ndarray) -> np.ndarray:
    """The texture-free view's log colour: the widest median (MEDIANS) takes away print, grain and a fine weave."""
    return np.log(_median(small, max(MEDIANS)).astype(np.float32) + 16.0)


def _paper_beyond(small: np.ndarray, quad: np.ndarray) -> list[float] | None:
    """Per side of ``quad``, how far (working px) the paper goes on beyond it before it steps to the desk, or None
    when no side's does (2026-12-07, finder-motion2).

    A frame or a border printed a few mm inside a page's edge is a step as good as the edge: under motion blur (or at
    working size) the two merge into one plateau, and ``_beyond`` finds no separate line beyond the answer. Across
    such a side the colour is the paper's (as measured within the answer, past the frame) for a band outward, then it
    steps to a colour far from it that stays flat (the desk). A side on the page's edge has the desk's colour, or the
    edge's blur, right beyond it."""
    feat = _raw_view(small)
    q = order_corners(quad)
    t = np.linspace(0.15, 0.85, 24)[:, None]
    o = np.arange(-PAPER_IN - 2, PAPER_OUT + PAPER_DESK + 3)
    found = []
    for s in range(4):
        a, b, length, n = _inward(q, s)
        if length < 8:
            return None
        xy = (a + t * (b - a))[None] - o[:, None, None] * n
        prof = np.median(_sample(feat, xy.reshape(-1, 2)).reshape(len(o), len(t), -1), axis=1)  # (O, C)
        paper = np.median(prof[o <= -PAPER_IN], axis=0)
        best = 0.0
        for e in range(PAPER_MIN, PAPER_OUT + 1):  # the step's middle at offset e
            band = prof[(o >= 1) & (o <= e - 3)]  # off the step's blur, either side
            desk = prof[(o >= e + 3) & (o <= e + 2 + PAPER_DESK)]
            if not len(band) or len(desk) < 2:
                continue
            dd = np.linalg.norm(desk - paper, axis=1)
            # … and the step's middle at e, not nearer: a page's own edge on a desk of nearly its colour (low
            # contrast) is a ramp whose first px beyond the side is still within PAPER_ALIKE of the paper, and its
            # middle lies 1-2 px out, not at e (tune3:plain/1118); so is a plain page's motion-blur ramp whose start
            # the answer sits on (tune:motion/1126). Before the step the profile is within 0.3 of the way to the desk
            # (review of finder-motion2).
            before = np.linalg.norm(prof[o == e - 1][0] - paper)
            if np.linalg.norm(band - paper, axis=1).max() <= PAPER_ALIKE and dd.min() >= PAPER_STEP and \
                    np.linalg.norm(desk - desk.mean(0), axis=1).max() <= PAPER_ALIKE and before < 0.3 * dd.mean():
                best = float(e)
        found.append(best)
    return found if any(found) else None


def _paper_rim(small: np.ndarray, quad: np.ndarray) -> np.ndarray | None:
    """The page around ``quad`` where paper goes on beyond PAPER_SIDES of its sides to a step (``_paper_beyond``):
    the answer is a frame printed inside the page. None otherwise."""
    offsets = _paper_beyond(small, quad)
    if offsets is None or sum(o > 0 for o in offsets) < PAPER_SIDES:
        return None
    outer = _moved_quad(order_corners(quad), offsets)
    h, w = small.shape[:2]
    if outer is None or not _page_shaped(outer) or (outer < 0).any() or (outer > [w - 1, h - 1]).any():
        return None
    return outer


def _printed_band(small: np.ndarray, outer: np.ndarray, inner: np.ndarray) -> bool:
    """Whether the band between the answer (``inner``) and a well-outlined quadrilateral around it (``outer``) is a
    printed document's body (2026-12-07, branch finder-print): at least BAND_MORE times the answer's area, paper in
    the texture-free view (BAND_FLAT of it smooth: not a cloth's print, nor grain) with print on it (BAND_INK of it
    ink). The answer is then a block inside a card (its photo, on a polka-dot cloth whose dots scallop the card's
    sides), not a page on a larger sheet, whose rim beyond the page is blank paper, nor a printed document on a printed
    sheet (a card on a letter): the answer must itself be unprinted (less than BAND_INK of it ink), as a photo is."""
    h, w = small.shape[:2]
    c, co = inner.mean(0), outer.mean(0)
    band = _quad_mask((h, w), co + (outer - co) * 0.95) & (1 - _quad_mask((h, w), c + (inner - c) * 1.05))
    n = int(band.sum())
    if n < BAND_MORE * abs(_area(inner)):
        return False
    band = band.astype(bool)
    flat = _texture_free(small)
    smooth = _gradient(flat) < FLAT_GRADIENT
    ink = (np.log(small.astype(np.float32) + 16.0) - flat).mean(-1) < -BAND_DARK
    # The answer itself unprinted (a photo block has no print; a card or a receipt lying on a printed letter, a form or
    # a newspaper has its own, and stays the answer: review of finder-print).
    inside = _quad_mask((h, w), c + (inner - c) * 0.9).astype(bool)
    if inside.any() and ink[inside].mean() >= BAND_INK:
        return False
    return bool(smooth[band].mean() >= BAND_FLAT and ink[band].mean() >= BAND_INK)


def _covered_rim(hits, rims) -> list[float] | None:
    """Offsets of a document's edge beyond the answer where three of its sides have a calm rim of one colour (within
    RIM_ALIKE) and the fourth has a line beyond it that is no calm rim (2026-12-06 night, branch finder-cloth): a stamp,
    a pen or print over that side's rim; its edge is the line nearest the others' rim width (within RIM_COVERED of it:
    a printed frame's rim is as wide all round). None otherwise (``_beyond``'s ``hits`` and calm ``rims``)."""
    open_sides = [s for s in range(4) if not rims[s]]
    if len(open_sides) != 1 or not hits[open_sides[0]]:
        return None
    colours = [next(c for _, calm, c in hits[s] if calm) for s in range(4) if rims[s]]
    if max(np.linalg.norm(c - np.median(colours, 0)) for c in colours) > RIM_ALIKE:
        return None
    width = float(np.median([r[-1] for r in rims if r]))
    o = min((o for o, _, _ in hits[open_sides[0]]), key=lambda o: abs(o - width))
    if abs(o - width) > RIM_COVERED * width:
        return None
    return [r[-1] if r else o for r in rims]


def _moved_quad(q: np.ndarray, offsets) -> np.ndarray | None:
    """The quad whose sides are ``q``'s moved outward by ``offsets`` px (where neighbouring moved sides meet)."""
    lines = []
    for s in range(4):
        a, b, _, n = _inward(q, s)
        lines.append((a - offsets[s] * n, b - offsets[s] * n))
    out = []
    for s in range(4):
        (p1, p2), (p3, p4) = lines[(s - 1) % 4], lines[s]
        d1, d2 = p2 - p1, p4 - p3
        den = d1[0] * d2[1] - d1[1] * d2[0]
        if abs(den) < 1e-9:
            return None
        t = ((p3 - p1)[0] * d2[1] - (p3 - p1)[1] * d2[0]) / den
        out.append(p1 + t * d1)
    out = np.array(out)
    return out if _convex(out) else None


def _outlines_beyond(feat: np.ndarray, q: np.ndarray):
    """Per side of ``q``, the lines beyond it (outward, nearest first, up to three within ENCLOSE_REACH of the
    quad's span, before the photo ends) that step the same way along RIM_SHARE of them: (offset px, whether the
    band before it is a calm rim within RIM_REACH of the span, its median colour)."""
    h, w = feat.shape[:2]
    t = np.linspace(0.08, 0.92, 32)[:, None]
    out = []
    for s in range(4):
        a, b, length, n = _inward(q, s)
        if length < 8:
            return None
        span = float(np.median([abs((q[(s + k) % 4] - a) @ n) for k in (2, 3)]))
        reach = int(min(ENCLOSE_REACH * span, max(w, h)))
        pts = a + t * (b - a)                                                     # (T, 2)
        o = np.arange(0, max(RIM_MIN + 1, reach))
        xy = pts[None] - o[:, None, None] * n                                    # (O, T, 2)
        inside = ((xy >= 0) & (xy <= [w - 1, h - 1])).all(-1).mean(-1) >= 0.9   # (O,)
        flat = xy.reshape(-1, 2).astype(np.float32)
        vals = cv2.remap(feat, flat[:, :1], flat[:, 1:], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        vals = vals.reshape(len(o), len(t), -1)
        # A narrow step (1 px either side): a rim of a few px keeps its two edges apart.
        diff = np.zeros_like(vals)
        diff[1:-1] = vals[:-2] - vals[2:]
        strength = np.clip((_cnorm(diff) - 0.02) / 0.04, 0, 1)
        up = _csum(diff) > 0
        share = np.maximum((strength * up).mean(-1), (strength * ~up).mean(-1)) * inside
        side = []
        last = int(np.argmax(share[:3]))  # the side's own step
        for i in range(RIM_MIN, len(o) - 1):
            if len(side) == 3:
                break
            if share[i] < RIM_SHARE or share[i] < share[i - 1] or share[i] < share[i + 1]:
                continue
            if share[last:i + 1].min() > RIM_EDGES * min(share[last], share[i]):
                continue  # the same step (a plateau, a ramp), not a line beyond it
            lo, hi = int(o[last]) + 3, int(o[i]) - 2  # off both steps' blur
            band = vals[lo:hi] if hi > lo else vals[(int(o[last]) + int(o[i])) // 2][None]
            along = np.abs(np.diff(band, axis=1)).max(-1)
            across = np.abs(np.diff(band, axis=0)).max(-1) if len(band) > 1 else np.zeros(1)
            calm = bool(o[i] <= RIM_REACH * span + 1 and (along <= RIM_CALM).mean() >= RIM_CALM_SHARE
                        and float(np.median(across)) <= RIM_CALM)
            colour = np.median(band.reshape(-1, band.shape[-1]), 0)
            past = vals[min(i + 3, len(o) - 1):min(i + 7, len(o))]  # what lies just beyond the step
            if calm and len(past) and \
                    np.linalg.norm(colour - np.median(past.reshape(-1, past.shape[-1]), 0)) <= RIM_ALIKE:
                calm = False  # the band is the same stuff as beyond the step: a line on the desk, not a paper rim
            side.append((float(o[i]), calm, colour))
            last = i
        out.append(side)
    return out


def _search(small: np.ndarray, gain: float):
    """The best candidate (quad, confidence, rank, near-step score) in the working image, or None. ``gain``
    multiplies the log-colour features the steps are measured on (1: as tuned)."""
    # Paper is flat once its print is gone: the share of a candidate's inside without texture in the
    # texture-free view tells a page from a patch of checked cloth or grain outlined by four of its own lines.
    flat_view = _median(small, max(MEDIANS))
    flat_feat = np.log(flat_view.astype(np.float32) + 16.0)
    gx = cv2.Sobel(flat_feat, cv2.CV_32F, 1, 0, ksize=3) * 0.125
    gy = cv2.Sobel(flat_feat, cv2.CV_32F, 0, 1, ksize=3) * 0.125
    grad = np.sqrt(_csum(gx * gx + gy * gy))
    smooth = (grad < FLAT_GRADIENT).astype(np.uint8)
    clipped = _blown_out(small) if small.ndim == 3 else None
    if clipped is not None and not clipped.any():
        clipped = None
    # Where a reflection blows out both sides of a line, nothing can be seen: a blown-out page beside a
    # darker desk still shows its edge, so only what is blown out all round (BLIND px) is blind.
    blind = None if clipped is None else _blind(clipped)
    found = steep = None  # steep: the best candidate shaped like a page in steep perspective only
    judged = []  # every candidate that passed: (quad, confidence, rank, near-step score)
    for median in MEDIANS:
        # Two views of the same photo: with texture removed (grain, weave, stripes, text gone), and as it
        # is (fine detail: small cards, a page's edge next to text). The better-ranked answer wins.
        view = flat_view if median == max(MEDIANS) else (cv2.medianBlur(small, median) if median > 1 else small)
        feat = cv2.GaussianBlur(np.log(view.astype(np.float32) + 16.0), (0, 0), 1.0) * gain
        if median == max(MEDIANS):
            flat_steps = feat
        candidates = []
        lines = _lines(feat, None if median > 1 else MAX_SEGMENTS)
        if len(lines) >= 4:
            best = _best_quad(feat, lines, blind)
            if best is not None:
                candidates.append(best)
        line_sure = bool(candidates) and candidates[0][1][0] >= MIN_SCORE and \
            _confidence(*candidates[0][1], flat=_flatness(smooth, candidates[0][0])) >= SURE
        if median > 1:
            candidates += [_judge(feat, q, blind) for q in _region_quads(view)]
            if not line_sure:  # the line search is sure: the smooth regions seldom do better (time)
                polished = [_polish(feat, q) for q in _texture_quads(grad)]
                candidates += [_judge(feat, q, blind) for q in polished if _page_shaped(q, STEEP_ANGLE)]
        for quad, evidence, rank in candidates:
            found, steep = _consider(small, smooth, clipped, quad, evidence, rank, found, steep, judged)
        if found is not None and found[1] >= SURE:
            break  # the texture-free view (first) is sure: the other view seldom does better
    if found is None or found[1] < SURE:
        # A coarse view (half the working size): on a fine check or stripes under motion blur the page's sides
        # are broken at every stripe into pieces too short for a line, at working size; at half size the
        # cloth averages out and the sides are whole. Its best quad is judged at working size, as the others.
        coarse = cv2.resize(small, (max(1, small.shape[1] // 2), max(1, small.shape[0] // 2)),
                            interpolation=cv2.INTER_AREA)
        coarse_feat = cv2.GaussianBlur(np.log(coarse.astype(np.float32) + 16.0), (0, 0), 1.0) * gain
        lines = _lines(coarse_feat)
        best = _best_quad(coarse_feat, lines) if len(lines) >= 4 else None
        if best is not None:
            quad, evidence, rank = _judge(flat_steps, (best[0] + 0.5) * 2 - 0.5, blind)
            first = found
            found, steep = _consider(small, smooth, clipped, quad, evidence, rank, found, steep, judged)
            if first is not None and found is not first and \
                    np.abs(order_corners(found[0]) - order_corners(first[0])).max() <= COARSE_SAME:
                # The first look's answer seen again coarsely (its corners within a few px): the coarse view sees
                # no more of it, so it is no surer than the first look was (a wrong answer asked about at 0.72
                # was lifted to 0.76, over CONFIDENT).
                found = (found[0], min(found[1], first[1]), *found[2:])
                judged[-1] = found
        # Quiet regions: on a fine stripe or check (and more so under blur) the desk is edges everywhere, a
        # page's sides are no edge (the stripes run up to the paper and turn there), and the paper is the
        # one region without edges but its print's. Polished and judged in the view as it is.
        raw_feat = _raw_view(small) * gain
        outlined = len(judged)  # the candidates before are the outline searches'; those after, the quiet regions'
        for region in _quiet_quads(_edges(raw_feat)[0]):
            inside = found is not None and _inside(region, found[0])
            if inside and found[1] >= CONFIDENT:
                continue  # inside an answer outlined as a page: its inner part (a card's panel), and it stays
            for q in (region, _polish(raw_feat, region, near=True), _polish(raw_feat, region)):
                if _page_shaped(q, STEEP_ANGLE) and (gain == 1.0 or _crisp(small, q)):
                    # With the steps amplified (a pale page), the answer must be crisp (``detect``): a quiet region
                    # that is not would be dropped there, and the page it displaced with it.
                    quad, evidence, rank = _judge(raw_feat, q, blind)
                    before = found
                    found, steep = _consider(small, smooth, clipped, quad, evidence, rank, found, steep, judged)
                    if found is not before and before is not None and found[1] < NO_PAGE <= before[1]:
                        # No page by its own confidence (the desk's lit patch beside a page, outranking it by
                        # flatness): it does not displace a page (framed/1044: the page 0.95 at 0.44, then "no page").
                        found = before
                        continue
                    if inside and found is not before and _rim_between(raw_feat / gain, before[0], found[0]):
                        found = before  # the quiet region is the print inside the document's plain rim
                        continue
                    if inside and found is not before:
                        # Inside an unsure answer, the quiet region is the page (the answer took a stripe beyond
                        # it) or a printed frame's inside (the answer was the frame): a guess between the two,
                        # asked (framed/2002 at 12 MP: the frame's inside at 0.93, IoU 0.80).
                        found = (found[0], min(found[1], FRAME_DOUBT * CONFIDENT), *found[2:])
                        judged[-1] = found
        if any(found is entry for entry in judged[outlined:]):
            found = _outline_around(found, judged[:outlined], raw_feat, blind)
        if gain == 1.0 and (found is None or found[1] < CONFIDENT):
            found, steep = _consider_cloth(small, smooth, clipped, raw_feat, blind, found, steep, judged)
    found = _outermost(found, judged, flat_steps / gain) if found is not None else steep
    if found is not None:
        found = _band_end(found, judged, flat_steps / gain, blind)
    if found is not None:
        calm = (grad < FLAT_GRADIENT / 2).astype(np.uint8)
        # … and the texture-free view's steps, calm and gradient, for growing the refined answer (``_regrow``), and
        # its median (uint8) for the crop of a document lying on the answer (``_on_object``: no second median).
        found = (_grow(flat_steps, calm, found[0], (gx, gy)), *found[1:], (flat_steps, calm, (gx, gy), flat_view))
    return found


def _consider(small, smooth, clipped, quad, evidence, rank, found, steep, judged):
    """One candidate weighed against the best so far (``found``; ``steep``: the best shaped like a page in steep
    perspective only): dropped when it is no page, its rank lowered when its inside is less flat than paper."""
    if evidence[0] < MIN_SCORE or not _page_shaped(quad, STEEP_ANGLE):
        return found, steep
    if clipped is not None and _glare(small, clipped, quad):
        return found, steep
    flat = _flatness(smooth, quad)
    if flat < FLAT_PAPER and _elongated(quad) and _plain_margins(small, quad):
        flat = max(flat, _flatness(_print_free_smooth(small, quad), quad, edge=PRINT_EDGE))
    rank *= min(1.0, flat / FLAT_PAPER) ** FLAT_POWER  # paper is at least FLAT_PAPER flat
    entry = (quad, _confidence(*evidence, flat=flat), rank, evidence[0], evidence[3])
    if not _page_shaped(quad):
        if steep is None or rank > steep[2]:
            steep = (quad, min(entry[1], STEEP_DOUBT * CONFIDENT), *entry[2:])
        return found, steep
    judged.append(entry)
    if found is None or rank > found[2]:
        found = entry
    return found, steep


def _consider_cloth(small, smooth, clipped, raw_feat, blind, found, steep, judged):
    """The regions off the cloth's colours (``_cloth_regions``), as they are and polished near and far, judged in the
    view as it is and weighed as the other candidates (``_consider``); one that is no page by its own confidence does
    not displace a page, nor one a better step (near-step score: framed/1034 on a gingham, the card's outline 1.00, its
    printed body's region 0.72 but flatter); one inside the answer with a band of paper between (``_rim_between``) is
    a document's printed body inside its plain rim (as for the quiet regions). A region that wins is asked
    (FRAME_DOUBT). An unsure winner inside one outlined all round gives way to it (``_cloth_around``)."""
    outlined = []  # (entry, wide check's weakest side) of the regions judged
    first = found  # the outline searches' answer: a better step than a region's keeps its place (not another region's)
    for region in _cloth_regions(small, raw_feat):
        for q in (region, _polish(raw_feat, region, near=True), _polish(raw_feat, region)):
            if not _page_shaped(q, STEEP_ANGLE):
                continue
            quad, evidence, rank = _judge(raw_feat, q, blind)
            if evidence[2] < CLOTH_SIDES:
                continue  # a side off the paper's edge (the region's colour is a window's mean: it blurs the sides)
            before, count = found, len(judged)
            found, steep = _consider(small, smooth, clipped, quad, evidence, rank, found, steep, judged)
            if len(judged) > count:
                # asked wherever it ends up (an outline around the answer, ``_outermost``, ``_band_end``), not only
                # as the winner here (review of finder-region: a region's own confidence reaches 1.00)
                entry = judged[-1]
                judged[-1] = (entry[0], min(entry[1], FRAME_DOUBT * CONFIDENT), *entry[2:])
                found = judged[-1] if found is entry else found
                outlined.append((judged[-1], evidence[2]))
            if found is not before and before is not None and found[1] < NO_PAGE <= before[1]:
                found = before
            elif found is not before and before is not None and ((first is not None and first[3] > evidence[0]) or (
                    _inside(found[0], before[0]) and _rim_between(raw_feat, before[0], found[0]))):
                found = before  # a better step; a document's printed body inside its plain rim (as for quiet regions)
    if any(found is entry for entry, _ in outlined):
        # Asked: a region off the desk's colours may be a block printed on a page the photo's border cuts (tune2
        # cut/1000 at 12 MP: a logo's disc, 0.79, where the page is no answer).
        found = (found[0], min(found[1], FRAME_DOUBT * CONFIDENT), *found[2:])
    return _cloth_around(found, outlined, raw_feat), steep


def _cloth_around(found, regions, feat):
    """The winner, or the best-ranked region off the cloth's colours around it (CONTAIN_BETTER larger, 95 % of it
    inside) outlined all round (near-step score CLOTH_OUTLINE, every side's wide check CLOTH_WIDE_MIN) and better than
    the winner (a banknote outlined perfectly on a gingham is not grown onto a check's line, framed/1012). Blurred
    print reaches a receipt's margins, so the receipt is less flat than a flat printed block or a patch of cloth
    inside it that four steps outline: the region, a step all round, is the page. Its confidence is the winner's (it
    was unsure), so it is asked."""
    if found is None or found[1] >= CONFIDENT:
        return found
    inner = found[0].astype(np.float32)
    inner_area = abs(_area(found[0]))
    best = None
    for cand, wide_min in regions:
        if cand is found or cand[3] < CLOTH_OUTLINE or cand[3] <= found[3] or \
                abs(_area(cand[0])) < CONTAIN_BETTER * inner_area:
            continue
        common, _ = cv2.intersectConvexConvex(inner, cand[0].astype(np.float32))
        if common < 0.95 * inner_area or wide_min < CLOTH_WIDE_MIN or _desk_between(feat, cand[0], found[0]):
            continue  # (what it adds is the desk's colour: a check's line beyond a banknote's side, framed/1012)
        if best is None or cand[2] > best[2]:
            best = cand
    return found if best is None else (best[0], found[1], *best[2:])


def _refined_off(small: np.ndarray, coarse: np.ndarray, work: np.ndarray) -> bool:
    """Whether the refinement took an unsure answer outlined all round at working size (every side's wide check
    CLOTH_WIDE_MIN, in the view as it is) off its outline: its near-step score there fell below REFINED_KEPT of it, and
    its wide check's mean fell. On a check under motion blur the outermost strong step near a receipt's side is often
    the next check's line beyond it (tune motion/1134 at 1080p: IoU 0.98 -> 0.89, near-step 0.98 -> 0.43; at 12 MP
    0.97 -> 0.87, near-step 0.61 -> 0.31)."""
    raw = _raw_view(small)
    before = _judge(raw, coarse)[1]
    if before[2] < CLOTH_WIDE_MIN:
        return False
    if abs(_area(work)) < REFINED_GROWN * abs(_area(coarse)):
        return False  # not out beyond: a curled side the refinement followed (review: tune3 curled/1002 0.99 -> 0.92,
        #               tune curled/1004 0.996 -> 0.95 with it)
    after = _judge(raw, work)[1]
    return after[0] < REFINED_KEPT * before[0] and after[1] < before[1]


def _glare(small: np.ndarray, clipped: np.ndarray, quad: np.ndarray) -> bool:
    """Whether a quadrilateral outlines a lamp's reflection rather than a sheet: most of its inside is blown
    out (every channel clipped) and its sides are ramps, not steps (a specular patch has a soft rim; an
    over-exposed page on a dark desk is clipped too, but its sides are crisp)."""
    if _smooth_share(clipped, quad) < GLARE_CLIPPED:
        return False
    return _ramps(small, quad) >= 3


def _crisp(small: np.ndarray, quad: np.ndarray) -> bool:
    """Whether at least three sides of a quadrilateral are steps, not ramps: of the change in log colour from
    12 px outside a side to 3 px inside it, at least CRISP happens within 3 px either side of it (median
    along the side). A faint page's sides are steps; a mottled desk's blotches change over tens of pixels."""
    shares = _side_sharpness(small, quad)
    if shares is None:
        return False
    rimmed = _rimmed(small, quad) if any(v is not None and v > 1.5 for v in shares) else [False] * 4
    crisp = sum(CRISP <= v <= 1.5 or (v > 1.5 and r) for v, r in zip(shares, rimmed, strict=True) if v is not None)
    if crisp == 2:  # (only where it decides: one side short of three)
        crisp += _blurred_steps(small, quad, shares)
    return crisp >= 3


def _blurred_steps(small: np.ndarray, quad: np.ndarray, shares: list[float | None]) -> int:
    """How many sides that are ramps at 3 px are steps blurred by the camera's motion (2026-12-07, finder-scan12,
    tune3 motion/1119): motion blur spreads a side across the motion over its length (up to ~10 working px), so
    less than CRISP of the change falls within 3 px of it, while the sides along the motion stay steps. Such a side
    counts when at least CRISP (and at most 1.5, as in ``_crisp``) of the change from 12 px outside to 2 BLUR_REACH
    inside happens within BLUR_REACH of it, and both its neighbours are steps (a blotch of the desk is a ramp all
    round). The change is taken to 2 BLUR_REACH inside, not BLUR_REACH: with the window ending at BLUR_REACH, a
    linear ramp of any width (a lit band fading out over tens of px) has 12 / 18 = 0.67 of it within BLUR_REACH and
    would count; to 2 BLUR_REACH it has 0.5. And a ramp at most 2 BLUR_REACH wide about the side has at least
    BLUR_SHARE of its change within 3 px of it: a side with less is no blurred step but a change beside it (an
    empty striped desk's band closed by a pen lying across it: 0.09, document_photo none/110 at 1000x750)."""
    feat = np.log(small.astype(np.float32) + 16.0)
    q = order_corners(quad)
    t = np.linspace(0.1, 0.9, 32)[:, None]
    count = 0
    for s in range(4):
        v, before, after = shares[s], shares[(s - 1) % 4], shares[(s + 1) % 4]
        if v is None or v >= CRISP or v < BLUR_SHARE or before is None or after is None or \
                not (CRISP <= before <= 1.5 and CRISP <= after <= 1.5):
            continue
        a, b, _, n = _inward(q, s)
        pts = a + t * (b - a)
        total = np.median(_sample(feat, pts + 2 * BLUR_REACH * n) - _sample(feat, pts - 12 * n), axis=0)
        size = float(total @ total)
        if size < 0.02 ** 2:
            continue
        near = np.median(_sample(feat, pts + BLUR_REACH * n) - _sample(feat, pts - BLUR_REACH * n), axis=0)
        count += CRISP <= float(near @ total) / size <= 1.5
    return count


def _onto_flat(small: np.ndarray, quad: np.ndarray) -> bool:
    """Whether every side of a quadrilateral, all four off the photo's border, is an edge onto flat
    paper: the log colour (median along the side) changes by at least EDGE_JUMP from 2 px outside it to 2 px inside,
    and 4, 6 and 8 px inside it differs from 2 px inside by at most EDGE_FLAT of that change and at most EDGE_CALM
    (paper's margin; a desk's texture 2-8 px inside changes by 0.0074 or more on 90 empty desks). A pale page on a
    tone-on-tone damask (tune3 arabic/1129 at 1080p) is such an edge, its thin shadow just outside, but its sides
    are no step against the desk 12 px out (``_crisp``: the damask's pattern is as unlike the paper as the desk
    there is): 0.51, 1.15, 0.21, 1.80. A mottled desk's blotch changes over tens of px, so it is not flat just
    inside, nor does it change within 4 px as much as it does 2-8 px inside. A line printed on paper is such an
    edge too (a form's frame: dark just outside, the margin flat inside); only the page's own side beyond it tells
    them apart, so a side at the photo's border, where that cannot be seen, makes the answer none of this."""
    feat = np.log(small.astype(np.float32) + 16.0)
    q = order_corners(quad)
    t = np.linspace(0.1, 0.9, 32)[:, None]
    limit = [feat.shape[1] - 1, feat.shape[0] - 1]
    for s in range(4):
        a, b, length, n = _inward(q, s)
        if length < 1:
            return False
        pts = a + t * (b - a)
        if not ((pts - 12 * n >= 0) & (pts - 12 * n <= limit)).all(1).mean() > 0.5:
            return False  # the photo's border is no evidence (as in ``_side_sharpness``): a form cut there passes

        def at(o, pts=pts, n=n):
            return np.median(_sample(feat, pts + o * n), axis=0)

        paper = at(2)
        jump = float(np.linalg.norm(paper - at(-2)))
        inside = max(float(np.linalg.norm(at(o) - paper)) for o in (4, 6, 8))
        if jump < EDGE_JUMP or inside > min(EDGE_FLAT * jump, EDGE_CALM):
            return False
    return True


def _rimmed(small: np.ndarray, quad: np.ndarray) -> list[bool]:
    """Per side, whether it is a faint step with a dark rim just outside it (2026-12-06, motion/1027): a pale page
    on a desk of nearly its colour shows its edge as a thin shadow, deeper than the step itself, so the change
    within 3 px of the side overshoots the change from the desk to the paper (a share above 1.5). Such a side is a
    step when the desk beyond the rim and the paper inside are flat (each changes by less than RIM_FLAT of the
    step: a ramp or a blotch does not) and the rim is at most RIM_DEPTH times the step, on the desk's side."""
    feat = np.log(small.astype(np.float32) + 16.0)
    q = order_corners(quad)
    c = q.mean(axis=0)
    t = np.linspace(0.1, 0.9, 32)[:, None]
    out = []
    for s in range(4):
        a, b = q[s], q[(s + 1) % 4]
        length = float(np.hypot(*(b - a)))
        n = np.array([a[1] - b[1], b[0] - a[0]]) / max(length, 1e-6)
        if (c - a) @ n < 0:
            n = -n
        pts = a + t * (b - a)

        def at(o, pts=pts, n=n):
            return np.median(_sample(feat, pts + o * n), axis=0)

        desk, paper = at(-12), at(3)
        step = paper - desk
        size = float(np.sqrt(step @ step))
        if size < 0.02:
            out.append(False)
            continue
        u = step / size
        rim = min(float((at(o) - desk) @ u) for o in (-4, -3, -2, -1))  # below 0: darker than the desk, away
        out.append(length >= 1 and -RIM_DEPTH * size <= rim < 0
                   and abs(float((at(-8) - desk) @ u)) < RIM_FLAT * size
                   and abs(float((at(6) - paper) @ u)) < RIM_FLAT * size)
    return out


def _ramps(small: np.ndarray, quad: np.ndarray) -> int:
    """How many sides of a quadrilateral are ramps: less than CRISP of their change within 3 px of them."""
    shares = _side_sharpness(small, quad)
    return 0 if shares is None else sum(v < CRISP for v in shares if v is not None)


def _side_sharpness(small: np.ndarray, quad: np.ndarray) -> list[float | None] | None:
    """Per side, the share of the change in log colour from 12 px outside to 3 px inside that happens within
    3 px either side of it (None where the side is at the photo's border or changes too little to say);
    None for a degenerate quadrilateral."""
    feat = np.log(small.astype(np.float32) + 16.0)
    q = order_corners(quad)
    c = q.mean(axis=0)
    t = np.linspace(0.1, 0.9, 32)[:, None]
    shares: list[float | None] = []
    for s in range(4):
        a, b = q[s], q[(s + 1) % 4]
        length = float(np.hypot(*(b - a)))
        if length < 1:
            return None
        n = np.array([a[1] - b[1], b[0] - a[0]]) / length
        if (c - a) @ n < 0:
            n = -n
        pts = a + t * (b - a)
        outside = pts - 12 * n
        if not ((outside >= 0) & (outside <= [feat.shape[1] - 1, feat.shape[0] - 1])).all(1).mean() > 0.5:
            shares.append(None)
            continue  # the photo's border is no evidence
        shares.append(_ramp_share(feat, pts, n))
    return shares


def _ramp_share(feat: np.ndarray, pts: np.ndarray, n: np.ndarray) -> float | None:
    """The share of the change in log colour ``feat`` from 12 px outside to 3 px inside the points ``pts`` (normal
    ``n`` towards the inside) that happens within 3 px either side of them; None where it changes too little to say.
    A page's edge is a step (near 1), a shade's or a defocused edge a ramp."""
    def at(o):
        return _sample(feat, pts + o * n)

    total = np.median(at(3) - at(-12), axis=0)
    size = float(total @ total)
    if size < 0.02 ** 2:
        return None
    return float(np.median(at(3) - at(-3), axis=0) @ total) / size


def _line_sharpness(small: np.ndarray, pts: np.ndarray, n: np.ndarray) -> float | None:
    """``_side_sharpness`` along the points ``pts`` (working px) with the unit normal ``n`` (towards the inside): the
    share of the change in log colour from 12 px outside to 3 px inside within 3 px either side (None: too little)."""
    h, w = small.shape[:2]
    x0, y0 = np.floor(pts.min(axis=0) - 16).astype(int)
    x1, y1 = np.ceil(pts.max(axis=0) + 17).astype(int)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return _ramp_share(np.log(small[y0:y1, x0:x1].astype(np.float32) + 16.0), pts - [x0, y0], n)


def _inward(q: np.ndarray, s: int) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """Side ``s`` of the ordered quad ``q``: its ends, its length and its unit normal pointing into the quad."""
    a, b = q[s], q[(s + 1) % 4]
    d = b - a
    length = float(np.hypot(*d))
    n = np.array([-d[1], d[0]]) / max(length, 1e-9)
    if (q.mean(axis=0) - a) @ n < 0:
        n = -n
    return a, b, length, n


def _moved_sides(a: np.ndarray, b: np.ndarray, n: np.ndarray, oa: np.ndarray, ob: np.ndarray, t: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Side a–b with its ends moved by ``oa``, ``ob`` along ``n`` (G candidates): their ends, the points at
    fractions ``t`` along each (G, T, 2), and each candidate's own unit normal on ``n``'s side (G, 2)."""
    pa = a[None] + oa[:, None] * n
    pb = b[None] + ob[:, None] * n
    pts = pa[:, None] + t[None, :, None] * (pb - pa)[:, None]
    dd = pb - pa
    nn = np.stack([-dd[:, 1], dd[:, 0]], 1) / np.maximum(np.linalg.norm(dd, axis=1, keepdims=True), 1e-6)
    nn *= np.sign((nn * n).sum(1, keepdims=True))
    return pa, pb, pts, nn

def _unramp(small: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """Move a side that is a ramp onto the crisp edge nearby. A lamp's reflection over a page's edge, or the
    shading of a fold, makes a boundary whose change is spread over many pixels; the line search may take it
    for a side (it is long, straight enough and strong), though the page's edge runs beside it, crisp where
    the reflection does not hide it. Where the other sides are crisp (CRISP) and one is a ramp (below
    RAMP), lines around it (both ends moved along its normal over UNRAMP_REACH of its length) are scored
    by their share of crisp step: the change within 2 px of the line is most of the change within 8 px
    (a ramp's is not) and about as large as it (a stripe's or a check's far samples are alike again), and
    the step is real (as in ``_step``). The best line replaces the side when at
    least UNRAMP_SUPPORT of it is such a step."""
    shares = _side_sharpness(small, quad)
    if shares is None:
        return quad
    known = [v for v in shares if v is not None]
    if len(known) < 3:
        return quad
    ramps = [s for s, v in enumerate(shares) if v is not None and v < RAMP]
    if len(ramps) != 1 or sum(CRISP <= v <= 1.5 for v in known) < 2:
        return quad
    feat = cv2.GaussianBlur(np.log(small.astype(np.float32) + 16.0), (0, 0), 0.7)
    q = order_corners(quad)
    s = ramps[0]
    a, b, length, n = _inward(q, s)
    if length < 2 * MIN_SEGMENT:
        return quad
    r = UNRAMP_REACH * length
    # Outwards only, both ends (the page goes on past a fold's shading or a reflection; a line tilted about
    # one end onto a curled side's bulge is the curl, not more page).
    off = np.linspace(-r, -UNRAMP_MOVE, 41)
    oa, ob = np.meshgrid(off, off, indexing="ij")
    oa, ob = oa.ravel(), ob.ravel()
    pa, pb, pts, nn = _moved_sides(a, b, n, oa, ob, np.linspace(0.05, 0.95, 48))  # pts: (G, 48, 2)
    nn = np.broadcast_to(nn[:, None], pts.shape)
    h, w = feat.shape[:2]

    def at(o):
        xy = (pts + o * nn).reshape(-1, 2).astype(np.float32)
        cols = 1024
        pad = (-len(xy)) % cols
        xy = np.pad(xy, ((0, pad), (0, 0)), mode="edge")
        out = cv2.remap(feat, xy[:, 0].reshape(-1, cols), xy[:, 1].reshape(-1, cols), cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE)
        return out.reshape(-1, feat.shape[2])[:len(xy) - pad].reshape(pts.shape[0], pts.shape[1], -1)

    near = _cnorm(at(2.0) - at(-2.0))
    far = _cnorm(at(8.0) - at(-8.0))
    inside = ((pts >= 0) & (pts <= [w - 1, h - 1])).all(-1)
    # A crisp edge: most of the change within 8 px happens within 2 px (not a ramp), and the change persists
    # 8 px out (not a line, a stripe or a check of the desk, whose far samples are alike again).
    crisp = np.clip((near - 0.02) / 0.04, 0, 1) * (near >= UNRAMP_SHARE * far) * (far >= UNRAMP_SHARE * near) * inside
    support = crisp.mean(1) - 1e-3 * (np.abs(oa) + np.abs(ob)) / max(r, 1e-6)
    support[inside.mean(1) < 1.0] = -1.0   # the new side stays in the photo (its border is no evidence)
    g = int(np.argmax(support))
    if support[g] < UNRAMP_SUPPORT:
        return quad
    new = q.copy()
    p0 = _meet_segments((q[s - 1], q[s]), (pa[g], pb[g]))
    p1 = _meet_segments((pa[g], pb[g]), (q[(s + 1) % 4], q[(s + 2) % 4]))
    if p0 is None or p1 is None:
        return quad
    new[s], new[(s + 1) % 4] = p0, p1
    if not (_convex(new) and _page_shaped(new)) or abs(_area(new)) < MIN_AREA * w * h:
        return quad
    # The strip taken in is paper, as in ``_grow``: calm in the texture-free view, and its new side differs
    # from what lies well beyond it.
    strip = np.array([q[s], p0, p1, q[(s + 1) % 4]])
    if _convex(strip) and abs(_area(strip)) > 1:
        flat = _texture_free(small)
        calm = (_gradient(flat) < FLAT_GRADIENT / 2).astype(np.uint8)
        blurred = cv2.GaussianBlur(flat, (0, 0), 1.0)
        if _smooth_share(calm, strip) < GROW_CALM or \
                _wide_support(blurred, strip[None, :, 0], strip[None, :, 1])[0, 1] < GROW_WIDE:
            return quad
    return new


def _outermost(found, judged, feat=None):
    """The winner, or a candidate around it that is nearly as well outlined. A photo block, a band or the
    lit part of a page is outlined as well as the page (often better: flat, one colour) and a region
    candidate finds exactly it; a page around it with a near-step score close to its own is the page."""
    if found is None:
        return None
    for _ in range(3):
        inner = found[0].astype(np.float32)
        inner_area = abs(_area(found[0]))
        best = None
        for cand in judged:
            outer_area = abs(_area(cand[0]))
            # A candidate around it that is better outlined (near-step score and confidence) is the page
            # however little larger: a smooth region stops a few pixels short of the page's edge.
            better = cand[3] > found[3] and cand[1] > found[1]
            if outer_area < (CONTAIN_BETTER if better else CONTAIN_GROW) * inner_area or \
                    cand[3] < CONTAIN_SCORE * found[3]:
                continue
            if cand[1] < CONTAIN_SCORE * found[1]:
                continue
            common, _ = cv2.intersectConvexConvex(inner, cand[0].astype(np.float32))
            if common < 0.95 * inner_area:
                continue
            if feat is not None and _desk_between(feat, cand[0], found[0]):
                continue  # what it adds is desk (a plank beside the page, its seam taken for a side)
            if best is None or cand[2] > best[2]:
                best = cand
        if best is None:
            break
        found = best
    return found


def _band_end(found, judged, feat, blind):
    """The winner, or a candidate around it that three of its sides lie on (within END_SHARED of its narrow way),
    outlined as well as the winner (near-step score CONTAIN_SCORE of its, the wide check GROW_WIDE on every side)
    though less flat (2026-12-07, finder-conf3, tune3 framed/1004): the winner is a band at the end of a card whose
    body is a fine print no view takes away (a guilloche mesh), so the card's confidence (flatness) stays below
    ``_outermost``'s check and its body is too busy for ``_grow``. The card is the answer, asked unless it is better
    outlined than the band. Where such a candidate is outlined less well (near-step score RIM_OUTLINE at least) and at
    least 1 + BAND_MORE times the winner's area, the winner is asked: a page's blank upper half above a body of dense
    print (a table, a newspaper's columns) that breaks the page's lower sides. Not when what it adds is desk."""
    inner = order_corners(found[0]).astype(np.float32)
    inner_area = abs(_area(inner))
    best = doubt = None
    for cand in judged:
        outer = order_corners(cand[0]).astype(np.float32)
        if cand[3] < RIM_OUTLINE or cand[1] < NO_PAGE or abs(_area(outer)) < CONTAIN_GROW * inner_area:
            continue
        as_well = cand[3] >= CONTAIN_SCORE * found[3]
        if as_well and best is not None and cand[2] <= best[2]:
            continue
        if not as_well and (doubt is not None or abs(_area(outer)) < (1 + BAND_MORE) * inner_area):
            continue
        common, _ = cv2.intersectConvexConvex(inner, outer)
        if common < 0.95 * inner_area:
            continue
        narrow = min(np.linalg.norm(outer[(s + 1) % 4] - outer[s]) for s in range(4))
        shared = apart = 0
        for s in range(4):
            a, b, _, n = _inward(outer, s)
            gaps = [abs((inner[k] - a) @ n) for k in (s, (s + 1) % 4)]
            shared += max(gaps) <= END_SHARED * narrow
            apart += min(gaps) > END_SHARED * narrow
        # The fourth side a band's inner edge: both its ends off the outline's side. Where one end lies on it, the
        # winner is the same document with one side tilted (outer_documents idcard:pink 1000x750 s1: the card, its
        # top side 3 px and 17 px off the outline's): the outline only where at least as well outlined.
        if shared != 3 or (apart != 1 and cand[3] < found[3]):
            continue
        wide = _judge(feat, outer, blind)[1]
        if min(wide[1], wide[2]) < GROW_WIDE or _desk_between(feat, outer, inner):
            continue
        if as_well:
            best = cand
        else:
            doubt = cand
    if best is not None:
        score = found[1] if best[3] >= found[3] else min(found[1], FRAME_DOUBT * CONFIDENT)
        return (best[0], score, *best[2:])
    if doubt is not None:
        return (found[0], min(found[1], FRAME_DOUBT * CONFIDENT), *found[2:])
    return found


def _outline_around(found, outlined, feat, blind):
    """A quiet region's winner, or the best-ranked candidate of the outline searches around it (CONTAIN_BETTER
    larger, 95 % of it inside) whose sides are steps at least as good (near-step score), both as it was judged and
    in the view the quiet region was judged in (``feat``, the view as it is). A quiet region is found by the absence of
    edges, which a document's printed body inside its plain rim has as well as the paper: it cannot tell the print
    from the page, while the outline can — the paper's edge is a step all round, in either view. Its confidence is
    lifted by its flatness, so ``_outermost``'s confidence check is not asked. Judged in the same view as the quiet
    region: a stripe's edge beyond the page, a step in the texture-free view, is one more stripe's in this one
    (tablecloth/1008: 0.63 there, 0.25 here, against the quiet region's 0.60). At least as good, not better: a
    flat printed block (framed/1097, a tenth of the document) is a perfect step all round, as the document is."""
    inner = found[0].astype(np.float32)
    inner_area = abs(_area(found[0]))
    best = None
    for cand in outlined:
        if cand[3] < found[3] or abs(_area(cand[0])) < CONTAIN_BETTER * inner_area:
            continue
        common, _ = cv2.intersectConvexConvex(inner, cand[0].astype(np.float32))
        if common < 0.95 * inner_area or _judge(feat, cand[0], blind)[1][0] < found[3]:
            continue
        if best is None or cand[2] > best[2]:
            best = cand
    return found if best is None else best


def _region_quads(view: np.ndarray) -> list[np.ndarray]:
    """Quadrilaterals around regions of one colour (k-means in Lab on a small copy of the texture-free
    view): the page as a region, for when its sides are too broken up to be lines (stripes that touch
    it, a checked cloth of the paper's own white)."""
    h, w = view.shape[:2]
    f = REGION_SIDE / max(h, w)
    tiny = cv2.resize(view, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(tiny, cv2.COLOR_BGR2Lab).reshape(-1, 3).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
    cv2.setRNGSeed(17)  # k-means starts at random: the same photo gives the same answer
    _, labels, _ = cv2.kmeans(lab, REGION_K, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    labels = labels.reshape(tiny.shape[:2])
    quads = []
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    for k in range(REGION_K):
        mask = (labels == k).astype(np.uint8)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
        count, comp, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
        for c in range(1, count):
            x, y, bw, bh, area = stats[c]
            if area < MIN_AREA * tiny.size / 3 or bw >= tiny.shape[1] - 1 or bh >= tiny.shape[0] - 1:
                continue
            contours, _ = cv2.findContours((comp == c).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
            hull = cv2.convexHull(max(contours, key=cv2.contourArea))
            if area < 0.8 * cv2.contourArea(hull):
                continue  # not a solid convex region
            quad = _hull_quad(hull)
            if quad is not None:
                quads.append((quad + 0.5) / f - 0.5)
    return quads


def _texture_quads(grad: np.ndarray) -> list[np.ndarray]:
    """Quadrilaterals around smooth regions of the texture-free view: paper is flat once its print is
    gone, where grain, a weave or stripes are not, whatever their colours. The smooth mask is taken to a
    small copy, opened (the desk's own smooth specks go) and closed (the page's leftover print goes);
    each sizeable region's hull becomes a quadrilateral, polished onto the step nearby and judged. Twice:
    smooth as FLAT_GRADIENT says, and stricter (faint stripes are nearly as smooth as that; paper is
    smoother still), only when the desk looks smooth at the first level."""
    quads: list[np.ndarray] = []
    levels = [FLAT_GRADIENT]
    if (grad < FLAT_GRADIENT).mean() > FAINT_DESK:
        levels.append(FLAT_GRADIENT / 3)  # most of the photo is smooth: faint texture, or a plain desk
    for level in levels:
        for q in _smooth_quads((grad < level).astype(np.uint8)):
            if not any(np.abs(q - other).max() < 3 for other in quads):
                quads.append(q)
    return quads


def _inside(inner: np.ndarray, outer: np.ndarray) -> bool:
    """Whether QUIET_INSIDE of a quadrilateral's area lies inside another."""
    a, b = order_corners(inner).astype(np.float32), order_corners(outer).astype(np.float32)
    common, _ = cv2.intersectConvexConvex(a, b)
    return common >= QUIET_INSIDE * abs(_area(a))


def _quiet_quads(edges: np.ndarray) -> list[np.ndarray]:
    """Quadrilaterals around the regions free of edges (QUIET_REACH px from any) where the desk is busy with
    them (QUIET_BUSY of the photo): a page on a fine stripe or check, whose print leaves holes the hull fills."""
    busy = (cv2.dilate(edges, np.ones((QUIET_REACH, QUIET_REACH), np.uint8)) > 0).astype(np.uint8)
    if busy.mean() < QUIET_BUSY:
        return []
    # The desk's own gaps between its lines are thin (the opening drops them); the paper's margins and the
    # spaces between its lines of print are not, and close over the print.
    free = cv2.morphologyEx(1 - busy, cv2.MORPH_OPEN, np.ones((QUIET_OPEN, QUIET_OPEN), np.uint8))
    # A page's quiet pieces (margins, the spaces between its lines) lie close together: grouped, the hull of
    # each group's pieces is a candidate (the print between them inside it).
    near = cv2.dilate(free, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (QUIET_CLOSE,) * 2))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(near, connectivity=8)
    h, w = edges.shape
    quads = []
    for k in range(1, n):
        x, y, bw, bh, _ = stats[k]
        if bw >= w - 1 or bh >= h - 1:
            continue  # the desk's gaps, from one border to the other
        pts = cv2.findNonZero(((labels == k) & (free > 0)).astype(np.uint8))
        if pts is None:
            continue
        hull = cv2.convexHull(pts)
        area = cv2.contourArea(hull)
        if area < MIN_AREA * h * w or len(pts) < QUIET_SHARE * area:
            continue
        quad = _hull_quad(hull)
        if quad is not None:
            quads.append(quad)
    return quads


def _cloth_regions(small: np.ndarray, raw_feat: np.ndarray) -> list[np.ndarray]:
    """Quadrilaterals around the regions whose windowed colour lies off the desk's (2026-12-07, finder-region): over a
    window wider than a cloth's period (CLOTH_WINDOW) its stripes or checks average to mixtures of its colours, which
    lie along one line in Lab (the band round the photo's border gives it: its main direction); a receipt, near-white
    paper with grey smeared print, lies off that line. Each region beyond CLOTH_LEVELS of the border band's spread
    off the line, solid enough, gives its hull's four corners. On a stripe under motion blur a page's sides are broken
    at every stripe and crowded out by the stripes' lines; the region is whole."""
    h, w = small.shape[:2]
    if small.ndim != 3 or min(h, w) < 4 * CLOTH_WINDOW:
        return []
    mean = cv2.blur(cv2.cvtColor(small, cv2.COLOR_BGR2LAB).astype(np.float32), (CLOTH_WINDOW, CLOTH_WINDOW))
    band = max(4, int(CLOTH_RING * min(h, w)))
    ring = np.ones((h, w), bool)
    ring[band:-band, band:-band] = False
    if np.median(_gradient(raw_feat)[ring]) < CLOTH_ROUGH:
        return []  # a plain desk: the outline searches see its pages' sides whole
    desk = mean[ring]
    centre = np.median(desk, axis=0)
    _, _, vt = np.linalg.svd(desk[:: max(1, len(desk) // 4000)] - centre, full_matrices=False)
    off = mean - centre
    along = off[..., 0] * vt[0, 0] + off[..., 1] * vt[0, 1] + off[..., 2] * vt[0, 2]
    off -= along[..., None] * vt[0]
    dist = np.sqrt(off[..., 0] ** 2 + off[..., 1] ** 2 + off[..., 2] ** 2)
    spread = float(np.percentile(dist[ring], 90))
    quads = []
    for level in CLOTH_LEVELS:
        mask = cv2.morphologyEx((dist > level * spread).astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        for k in range(1, n):
            x, y, bw, bh, area = stats[k]
            if area < MIN_AREA * h * w or bw >= w - 1 or bh >= h - 1:
                continue
            hull = cv2.convexHull(cv2.findNonZero((labels == k).astype(np.uint8)))
            if area < CLOTH_SOLID * cv2.contourArea(hull):
                continue
            quad = _hull_quad(hull)
            if quad is not None:
                quads.append(quad)
    return quads


def _rim_between(feat: np.ndarray, outer: np.ndarray, inner: np.ndarray) -> bool:
    """Whether the band between an answer and a quiet region inside it is paper: wide enough to measure (QUIET_BAND on
    average) and unlike the desk just beyond the answer (its median colour QUIET_BAND_DESK away). Where the answer took
    desk beyond the page (a stripe, a patch of grain) the band is the desk; where the quiet region is a document's
    printed body, the band is its plain rim."""
    o, i = order_corners(outer).astype(np.float32), order_corners(inner).astype(np.float32)
    common, _ = cv2.intersectConvexConvex(o, i)
    perimeter = cv2.arcLength(o.reshape(-1, 1, 2), True) + cv2.arcLength(i.reshape(-1, 1, 2), True)
    if 2 * (abs(_area(o)) - common) / max(perimeter, 1.0) < QUIET_BAND:
        return False  # too thin to tell its colour from its edges'
    disk = lambda r: cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2)  # noqa: E731
    om, im = _quad_mask(feat.shape[:2], order_corners(outer)), _quad_mask(feat.shape[:2], order_corners(inner))
    band = (cv2.erode(om, disk(2)) > 0) & ~(cv2.dilate(im, disk(2)) > 0)
    desk = (cv2.dilate(om, disk(15)) > 0) & ~(cv2.dilate(om, disk(4)) > 0)
    if not band.any() or not desk.any():
        return False
    return float(np.linalg.norm(np.median(feat[band], axis=0) - np.median(feat[desk], axis=0))) >= QUIET_BAND_DESK


def _desk_between(feat: np.ndarray, outer: np.ndarray, inner: np.ndarray) -> bool:
    """Whether what a candidate around the winner adds to it is the desk (issue 17, occluder/1059): wide enough to
    measure (QUIET_BAND on average) and its median colour within QUIET_BAND_DESK of the desk's just beyond the winner
    (where the candidate does not reach). A hand over one side lowers the page's outline, and a quad around it whose
    side is a plank's seam beyond the page's own side, a wedge of wood, then passed as nearly as well outlined; a card's
    band, a page's shaded part or its rim beyond a printed body is unlike the desk (``_rim_between``'s measure)."""
    o, i = order_corners(outer).astype(np.float32), order_corners(inner).astype(np.float32)
    common, _ = cv2.intersectConvexConvex(o, i)
    perimeter = cv2.arcLength(o.reshape(-1, 1, 2), True) + cv2.arcLength(i.reshape(-1, 1, 2), True)
    if 2 * (abs(_area(o)) - common) / max(perimeter, 1.0) < QUIET_BAND:
        return False
    band, desk, _ = _added_and_beside(feat.shape[:2], o, i)
    if band.sum() < 20 or desk.sum() < 20:
        return False
    return float(np.linalg.norm(np.median(feat[band], axis=0) - np.median(feat[desk], axis=0))) < QUIET_BAND_DESK


def _added_and_beside(shape, outer: np.ndarray, inner: np.ndarray):
    """Masks of what ``outer`` adds to ``inner`` (2 px off both quads' edges), of the desk around ``inner`` (4-15 px
    beyond it, outside ``outer``), and of the whole added strip (``_desk_between``, ``_desk_strip``)."""
    disk = lambda r: cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2)  # noqa: E731
    om, im = _quad_mask(shape, order_corners(outer)), _quad_mask(shape, order_corners(inner))
    band = (cv2.erode(om, disk(2)) > 0) & ~(cv2.dilate(im, disk(2)) > 0)
    desk = (cv2.dilate(im, disk(15)) > 0) & ~(cv2.dilate(om, disk(4)) > 0)
    strip = ((om > 0) & ~(im > 0)).astype(np.uint8)
    return band, desk, strip


def _smooth_quads(smooth: np.ndarray) -> list[np.ndarray]:
    h, w = smooth.shape
    f = TEXTURE_SIDE / max(h, w)
    tiny = cv2.resize(smooth.astype(np.float32), (max(1, round(w * f)), max(1, round(h * f))),
                      interpolation=cv2.INTER_AREA)
    fine = (tiny > 0.5).astype(np.uint8)
    if fine.mean() > 0.8:
        return []  # a smooth desk: the colour regions and the lines do better
    fine = cv2.morphologyEx(fine, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    fine = cv2.morphologyEx(fine, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7)))
    # Coarser: the smooth share around each pixel. A page full of print keeps only slivers of margin and
    # line spacing, which the opening above removes; around them it is still smoother than stripes or grain.
    coarse = (cv2.blur(tiny, (7, 7)) > COARSE_SMOOTH).astype(np.uint8)
    coarse = cv2.morphologyEx(coarse, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    quads = []
    for mask in (fine, coarse):
        quads += _mask_quads(mask, f)
    return quads


def _mask_quads(mask: np.ndarray, f: float) -> list[np.ndarray]:
    """Each sizeable, fairly solid region of a mask (not touching all round) as a quadrilateral, in
    working pixels, a little outside the region (it stops short of the page's edge)."""
    th, tw = mask.shape
    quads = []
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    for c in contours:
        x, y, bw, bh = cv2.boundingRect(c)
        if bw >= tw - 1 or bh >= th - 1:
            continue
        hull = cv2.convexHull(c)
        if cv2.contourArea(hull) < MIN_AREA * th * tw or cv2.contourArea(c) < 0.5 * cv2.contourArea(hull):
            continue
        quad = _hull_quad(hull)
        if quad is not None:
            # The smooth region stops short of the page's edge (the edge's own gradient): start outside it.
            c = quad.mean(axis=0)
            r = np.linalg.norm(quad - c, axis=1, keepdims=True)
            quad = c + (quad - c) * (r + 2.0) / np.maximum(r, 1e-6)
            quads.append((quad + 0.5) / f - 0.5)
    return quads


def _polish(feat: np.ndarray, quad: np.ndarray, near: bool = False) -> np.ndarray:
    """Move each side of a rough quadrilateral (a region's outline) onto the line nearby with the most
    consistent step: both ends of the side are shifted along its normal over a small grid, and the line
    with the largest share of step (page on the inside, one polarity all round) is kept. Twice, coarse
    then fine; the corners are where the new sides meet."""
    q = order_corners(quad)
    h, w = feat.shape[:2]
    stages = ((POLISH_REACH, 21), (POLISH_REACH / 4, 11), (2.0, 9))
    for reach, steps in stages[1:] if near else stages:   # near: the outline is within a few px of the edge
        lines = []
        for s in range(4):
            a, b, length, n = _inward(q, s)
            if length < 2 * MIN_SEGMENT:
                return q
            r = max(2.0, reach * length) if reach < 1 else reach
            off = np.linspace(-r, r, steps)
            oa, ob = np.meshgrid(off, off, indexing="ij")
            oa, ob = oa.ravel(), ob.ravel()
            pa, pb, pts, nn = _moved_sides(a, b, n, oa, ob, np.linspace(0.1, 0.9, 32))  # pts: (G, 32, 2)
            nx = np.broadcast_to(nn[:, None, 0], pts.shape[:2]).ravel().astype(np.float32)
            ny = np.broadcast_to(nn[:, None, 1], pts.shape[:2]).ravel().astype(np.float32)
            xy = pts.reshape(-1, 2).astype(np.float32)
            mag, lum = _step(feat, xy[:, 0], xy[:, 1], nx, ny)
            strength = np.clip((mag - 0.02) / 0.04, 0, 1).reshape(len(oa), -1)
            bright = (strength * (lum.reshape(len(oa), -1) > 0)).mean(1)
            dark = (strength * (lum.reshape(len(oa), -1) <= 0)).mean(1)
            # Prefer the smallest move among equals (the region's own outline is near the side).
            bias = 1e-3 * (np.abs(oa) + np.abs(ob)) / r
            lines.append((bright - bias, dark - bias, pa, pb))
        polarity = int(sum(ln[1].max() for ln in lines) > sum(ln[0].max() for ln in lines))
        ends = []
        for ln in lines:
            g = int(np.argmax(ln[polarity]))
            ends.append((ln[2][g], ln[3][g]))
        new = np.empty_like(q)
        for s in range(4):
            p = _meet_segments(ends[s - 1], ends[s])
            if p is None:
                return q
            new[s] = p
        if not _convex(new) or abs(_area(new)) < 0.5 * abs(_area(q)) or abs(_area(new)) > 2 * abs(_area(q)):
            return q
        q = new
    return q


def _page_shaped(quad: np.ndarray, angle: float = PAGE_ANGLE) -> bool:
    """A sheet seen from above: no corner sharper than ``angle`` (PAGE_ANGLE; STEEP_ANGLE for a sheet in steep
    perspective) or blunter than its complement (a smooth sliver between two rings of grain or two stripes
    polishes into a spike)."""
    q = order_corners(quad)
    return bool(_right_enough(q[None, :, 0], q[None, :, 1], angle)[0])


def _right_enough(cx: np.ndarray, cy: np.ndarray, angle: float = PAGE_ANGLE) -> np.ndarray:
    """Per quadrilateral (corners in order, (N, 4) each): whether every corner is within ``angle`` of
    straight-on and its complement."""
    ax, ay = np.roll(cx, 1, axis=1) - cx, np.roll(cy, 1, axis=1) - cy
    bx, by = np.roll(cx, -1, axis=1) - cx, np.roll(cy, -1, axis=1) - cy
    cos = (ax * bx + ay * by) / np.maximum(np.hypot(ax, ay) * np.hypot(bx, by), 1e-9)
    return (np.abs(cos) <= math.cos(math.radians(angle))).all(axis=1)


def _meet_segments(l1, l2):
    """Where the lines through two point pairs cross, or None when they are (nearly) parallel."""
    (p1, p2), (p3, p4) = l1, l2
    d1, d2 = p2 - p1, p4 - p3
    den = d1[0] * d2[1] - d1[1] * d2[0]
    if abs(den) < 1e-6 * (np.hypot(*d1) * np.hypot(*d2) + 1e-9):
        return None
    t = ((p3[0] - p1[0]) * d2[1] - (p3[1] - p1[1]) * d2[0]) / den
    return p1 + t * d1


def _hull_quad(hull: np.ndarray) -> np.ndarray | None:
    """Four corners of a convex hull: the polygon simplified until it has four vertices."""
    peri = cv2.arcLength(hull, True)
    for eps in (0.02, 0.03, 0.045, 0.06, 0.08, 0.1):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4:
            return approx.reshape(4, 2).astype(np.float64)
        if len(approx) < 4:
            return None
    return None


def _judge(feat: np.ndarray, quad: np.ndarray, blind: np.ndarray | None = None):
    """A quadrilateral that did not come from the line search, scored as the line search scores (what ``blind``
    hides, blown out all round, counts as unseen, as there)."""
    h, w = feat.shape[:2]
    q = order_corners(quad)
    a, b = q, np.roll(q, -1, axis=0)
    t = np.linspace(0.05, 0.95, 48)[None, :, None]
    pts = a[:, None] + t * (b - a)[:, None]                  # (4, 48, 2)
    e = (b - a) / np.maximum(np.linalg.norm(b - a, axis=1, keepdims=True), 1e-6)
    n = np.stack([-e[:, 1], e[:, 0]], 1)
    n *= np.sign(((q.mean(0) - a) * n).sum(1, keepdims=True) + 1e-9)  # into the quad
    nn = np.broadcast_to(n[:, None], pts.shape).reshape(-1, 2).astype(np.float32)
    xy = pts.reshape(-1, 2).astype(np.float32)
    mag, lum = _step(feat, xy[:, 0], xy[:, 1], nn[:, 0], nn[:, 1])
    strength = np.clip((mag - 0.02) / 0.04, 0, 1).reshape(4, -1)
    seen = np.ones_like(strength)
    if blind is not None:
        xi = np.clip(np.rint(xy[:, 0]).astype(int), 0, w - 1)
        yi = np.clip(np.rint(xy[:, 1]).astype(int), 0, h - 1)
        seen = (blind[yi, xi] == 0).reshape(4, -1).astype(np.float32)
    share = np.maximum(seen.sum(1), SEEN_SHARE * seen.shape[1])
    bright = (strength * (lum.reshape(4, -1) > 0) * seen).sum(1) / share
    dark = (strength * (lum.reshape(4, -1) <= 0) * seen).sum(1) / share
    polarity = max(bright.mean(), dark.mean())
    base = float(polarity * math.sqrt(max(float(np.maximum(bright, dark).min()), 0.0)))
    wide = _wide_support(feat, q[None, :, 0], q[None, :, 1], blind)[0]
    area = abs(_area(q)) / (w * h)
    rank = base * area ** AREA_POWER * (0.4 + 0.6 * wide.mean()) * (0.5 + 0.5 * wide.min())
    return q, (base, float(wide.mean()), float(wide.min()), 0.0), float(rank)


def _confidence(base: float, wide_mean: float, wide_min: float, rival: float = 0.0, flat: float = 1.0) -> float:
    """0..1 from the winner's evidence: its near-step score times the wide check's mean share, less when
    its inside is not as flat as paper usually is. (``rival`` does not count here: see ``_doubt``.)"""
    return float(np.clip(base * wide_mean * min(1.0, flat / FLAT_PAPER), 0, 1))


def _doubt(rival: float) -> float:
    """Factor on the reported confidence when a second quadrilateral apart from the winner is ranked nearly
    as high (``rival``, its share of the winner's rank): 1 up to RIVAL_SHARE, falling to RIVAL_FLOOR at an
    equal rival. Two sheets in view make the choice a guess however well the winner is outlined; the
    operator is asked, but the page is not reported as missing: ``detect`` keeps the doubted score at least
    NO_PAGE (an unsure winner with an equal rival fell to 0.16 before, a page returned below NO_PAGE)."""
    return float(np.clip(1.0 - (1.0 - RIVAL_FLOOR) * (rival - RIVAL_SHARE) / (1.0 - RIVAL_SHARE), RIVAL_FLOOR, 1.0))


def _flatness(smooth: np.ndarray, quad: np.ndarray, edge: int = 0) -> float:
    """Share of the quadrilateral's inside (a margin off its sides) that is smooth in the texture-free view; with
    ``edge``, the ring leaves out that many px inside the sides as well (a narrow quad's ring lies in their blur)."""
    mask = np.zeros(smooth.shape, np.uint8)
    c = quad.mean(axis=0)
    # The ring just inside the sides: a page's margins, or the desk where a quad outlines too much.
    cv2.fillConvexPoly(mask, np.round((c + (quad - c) * 0.95) * 4).astype(np.int32), 1, cv2.LINE_8, shift=2)
    cv2.fillConvexPoly(mask, np.round((c + (quad - c) * 0.8) * 4).astype(np.int32), 0, cv2.LINE_8, shift=2)
    if edge:
        cv2.polylines(mask, [np.round(quad * 4).astype(np.int32)], True, 0, 2 * edge + 1, cv2.LINE_8, shift=2)
    n = _count(mask)
    return _count(smooth & mask) / n if n else 0.0


def _receipt_reach(quad: np.ndarray) -> float:
    """How far beyond a corner ``_carries_on`` looks along a side at most: LONG_REACH of the short side for an answer
    shaped as a till receipt (``_elongated``), else no limit. CARRY_REACH of a receipt's long side is 1-2 of its
    widths past the corner, where a receipt cut off short of its end goes on less than one (tune3 long_receipt/1010 at
    1080p: the QR end under a shade, 30 px of it left out, the long sides looked at 75 px on: "ends", 0.90 at 0.98)."""
    if not _elongated(quad):
        return float("inf")
    sides = np.linalg.norm(quad - np.roll(quad, 1, axis=0), axis=1)
    return LONG_REACH * min(sides[0] + sides[2], sides[1] + sides[3]) / 2


def _elongated(quad: np.ndarray) -> bool:
    """Whether the quadrilateral's mean long sides are LONG_ASPECT of its mean short ones: shaped as a till receipt."""
    sides = np.linalg.norm(quad - np.roll(quad, 1, axis=0), axis=1)
    a, b = sides[0] + sides[2], sides[1] + sides[3]
    return max(a, b) >= LONG_ASPECT * max(min(a, b), 1e-6)


def _plain_margins(small: np.ndarray, quad: np.ndarray) -> bool:
    """Whether both long sides of a receipt-shaped quadrilateral have plain paper just inside them: under MARGIN_MARKS
    of the samples MARGIN_DEPTH px in (the middle 80 % of the side) are dark marks, pixels the PRINT_CLOSE closing lifts
    by MARGIN_DARK (in the working image as it is, not closed). A till receipt is printed 3-6 mm in from its long
    sides; a ruler's ticks start at its edge, and closed over they left a ruler as flat as paper (review of long12:
    an ID card beside a ruler, the ruler returned at 0.47-0.64; an empty desk's ruler straightened at 1.00). Only
    then is the print-free flatness (``_print_free_smooth``) taken."""
    h, w = small.shape[:2]
    q = order_corners(quad)
    pad = PRINT_CLOSE + 2
    x0, y0 = np.clip(np.floor(q.min(axis=0)) - pad, 0, [w - 1, h - 1]).astype(int)
    x1, y1 = np.clip(np.ceil(q.max(axis=0)) + pad + 1, 1, [w, h]).astype(int)
    part = small[y0:y1, x0:x1]
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (PRINT_CLOSE, PRINT_CLOSE))
    lift = cv2.morphologyEx(part, cv2.MORPH_CLOSE, kernel).astype(np.float32) - part.astype(np.float32)
    if lift.ndim == 3:
        lift = lift.max(axis=2)
    sides = np.linalg.norm(q - np.roll(q, -1, axis=0), axis=1)
    first = 0 if sides[0] + sides[2] >= sides[1] + sides[3] else 1
    c = q.mean(axis=0)
    t = np.linspace(0.1, 0.9, 64)[:, None]
    for k in (first, first + 2):
        a, b = q[k], q[(k + 1) % 4]
        d = (b - a) / max(float(np.linalg.norm(b - a)), 1e-6)
        n = np.array([-d[1], d[0]])
        if np.dot(c - a, n) < 0:
            n = -n
        pts = (a + t * (b - a) + n * MARGIN_DEPTH - [x0, y0]).astype(np.float32)
        marks = cv2.remap(lift, pts[:, 0].copy(), pts[:, 1].copy(), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if float((marks > MARGIN_DARK).mean()) >= MARGIN_MARKS:
            return False
    return True


PRINT_TILE = 32           # px (working): the print-free mask is made tile by tile, only where a receipt is looked at
PRINT_MARGIN = 12        # px (working) beyond a tile its mask is made from (closing 4, median 4, gradient 1 reach 9)

# Per thread, for the one ``detect`` call running in it: (working image, print-free smooth mask, tiles made) of
# ``_print_free_smooth``; emptied at the call's start and end (two calls in two threads never share it).
_PRINT_FREE = threading.local()


def _print_free_smooth(small: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The smooth mask (as ``_search``'s: texture-free view's gradient under FLAT_GRADIENT) of the working image with
    its dark print closed over first (PRINT_CLOSE), valid over the quadrilateral's bounding box. A till receipt is
    print to its margins, a few working px of paper either side of its column, the QR block and bold header at its
    ends: the 9 px median leaves the print's blur, and the flatness of a long receipt outlined perfectly was
    0.14-0.55 (tune long_receipt/1002 at 1080p: no page). Closing takes out dark print only (a darker cloth's pale
    stripes stay). Made only for a candidate shaped as a receipt (``_elongated``), and only over the PRINT_TILE
    tiles its box covers that no earlier candidate of the same working image covered (long13: the whole image's
    9 px median was 25-250 ms; a receipt's box is a tenth of it), each tile from PRINT_MARGIN px around it, so the
    same values as the whole image's."""
    h, w = small.shape[:2]
    last, mask, done = getattr(_PRINT_FREE, "slot", None) or (None, None, None)
    if last is not small:
        mask = np.zeros((h, w), np.uint8)
        done = np.zeros((-(-h // PRINT_TILE), -(-w // PRINT_TILE)), bool)
        _PRINT_FREE.slot = (small, mask, done)
    x0, y0 = (np.clip(np.floor(quad.min(axis=0)), 0, [w - 1, h - 1]) // PRINT_TILE).astype(int)
    x1, y1 = (np.clip(np.ceil(quad.max(axis=0)), 0, [w - 1, h - 1]) // PRINT_TILE).astype(int)
    todo = ~done[y0:y1 + 1, x0:x1 + 1]
    if not todo.any():
        return mask
    rows, cols = np.nonzero(todo.any(axis=1))[0], np.nonzero(todo.any(axis=0))[0]
    ty0, ty1, tx0, tx1 = y0 + rows[0], y0 + rows[-1] + 1, x0 + cols[0], x0 + cols[-1] + 1
    a, b = ty0 * PRINT_TILE, min(h, ty1 * PRINT_TILE)  # the rows and columns of the tiles to make …
    c, d = tx0 * PRINT_TILE, min(w, tx1 * PRINT_TILE)
    ya, yb, xa, xb = max(0, a - PRINT_MARGIN), min(h, b + PRINT_MARGIN), max(0, c - PRINT_MARGIN), \
        min(w, d + PRINT_MARGIN)  # … made from this much around them
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (PRINT_CLOSE, PRINT_CLOSE))
    part = small[ya:yb, xa:xb]
    feat = np.log(cv2.medianBlur(cv2.morphologyEx(part, cv2.MORPH_CLOSE, kernel), max(MEDIANS)).astype(np.float32)
                  + 16.0)
    gx = cv2.Sobel(feat, cv2.CV_32F, 1, 0, ksize=3) * 0.125
    gy = cv2.Sobel(feat, cv2.CV_32F, 0, 1, ksize=3) * 0.125
    smooth = (np.sqrt(_csum(gx * gx + gy * gy)) < FLAT_GRADIENT).astype(np.uint8)
    mask[a:b, c:d] = smooth[a - ya:b - ya, c - xa:d - xa]
    done[ty0:ty1, tx0:tx1] = True
    return mask


def _as_bgr(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 3 and image.shape[2] == 1:  # grey kept with a channel axis
        image = image[..., 0]
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


# --- lines -------------------------------------------------------------------------------------------


@dataclass
class _Line:
    normal: np.ndarray   # unit normal n; the line is n·p = rho
    rho: float
    length: float
    sums: np.ndarray     # weighted moments for refitting: w, wx, wy, wxx, wxy, wyy

    @property
    def direction(self) -> np.ndarray:
        return np.array([-self.normal[1], self.normal[0]])


def _fit_many(sums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Total-least-squares lines (unit normals, offsets) from weighted moments w, wx, wy, wxx, wxy, wyy."""
    w, wx, wy, wxx, wxy, wyy = sums.T
    mx, my = wx / w, wy / w
    cxx, cxy, cyy = wxx / w - mx * mx, wxy / w - mx * my, wyy / w - my * my
    ang = 0.5 * np.arctan2(2 * cxy, cxx - cyy)  # direction of the line: the scatter's main axis
    n = np.stack([-np.sin(ang), np.cos(ang)], 1)
    return n, n[:, 0] * mx + n[:, 1] * my


def _fit_one(sums: np.ndarray) -> tuple[tuple[float, float], float]:
    """``_fit_many`` of one line's moments, the same values to the bit: the arithmetic in Python floats (each step
    rounded as numpy rounds it), only the angle's functions in numpy (on one-element arrays, numpy's own loops). The
    merge of chain segments into lines refits a line a thousand times a photo, and numpy's cost per call on arrays
    of one element was most of that."""
    w, wx, wy, wxx, wxy, wyy = sums.tolist()
    mx, my = wx / w, wy / w
    cxx, cxy, cyy = wxx / w - mx * mx, wxy / w - mx * my, wyy / w - my * my
    ang = 0.5 * np.arctan2(np.array([2 * cxy]), np.array([cxx - cyy]))
    nx, ny = float(-np.sin(ang)[0]), float(np.cos(ang)[0])
    return (nx, ny), nx * mx + ny * my


def _edges(feat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Canny edges of the colour gradient, and the gradient's direction (radians) at every pixel."""
    gx = cv2.Sobel(feat, cv2.CV_32F, 1, 0, ksize=3) * 0.125
    gy = cv2.Sobel(feat, cv2.CV_32F, 0, 1, ksize=3) * 0.125
    gxx, gyy, gxy = _csum(gx * gx), _csum(gy * gy), _csum(gx * gy)
    # Di Zenzo: the colour gradient is the main eigenvector of the channels' structure tensor.
    lam = 0.5 * (gxx + gyy + np.sqrt((gxx - gyy) ** 2 + 4 * gxy * gxy))
    mag = np.sqrt(lam)
    ang = 0.5 * np.arctan2(2 * gxy, gxx - gyy)
    k = 20000.0
    dx = np.clip(mag * np.cos(ang) * k, -32767, 32767).astype(np.int16)
    dy = np.clip(mag * np.sin(ang) * k, -32767, 32767).astype(np.int16)
    hi = max(0.012, float(np.percentile(mag, 80)))
    lo = hi * 0.4
    return cv2.Canny(dx, dy, lo * k, hi * k, L2gradient=True), ang


def _segments(edges: np.ndarray):
    """Straight pieces of the connected edge chains: points (M, 2), segment id per point, lengths, ends."""
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    chains = [c for c in contours if len(c) >= 2 * MIN_SEGMENT]
    if not chains:
        return [], np.zeros(0), np.zeros((0, 2, 2))
    polys = [cv2.approxPolyDP(c, 1.5, False).reshape(-1, 2) for c in chains]
    pts, places, lo, hi, firsts = _vertex_places([c.reshape(-1, 2) for c in chains], polys)
    # The polylines' pieces, all chains at once: a piece runs from a vertex to the next one of the same polyline.
    vts = np.concatenate(polys)
    owner = np.repeat(np.arange(len(polys)), [len(p) for p in polys])
    seg_len = np.hypot(*(vts[1:] - vts[:-1]).T)
    long = np.flatnonzero((owner[1:] == owner[:-1]) & (seg_len >= MIN_SEGMENT))
    taken = []
    chain = -1
    owners = owner.tolist()
    for v in long.tolist():
        if owners[v] != chain:
            chain, prev, first = owners[v], 0, firsts[owners[v]]
        # Where the polyline's vertices lie along the chain (a chain may pass a pixel twice: look ahead).
        at = bisect.bisect_left(places, first + prev, lo[v], hi[v])
        if at == hi[v]:
            continue
        a = places[at]
        at = bisect.bisect_left(places, a + 1, lo[v + 1], hi[v + 1])
        if at == hi[v + 1]:
            continue
        b = places[at]
        prev = b - first
        taken.append((v, a, b))
    pieces = [pts[a:b + 1] for _, a, b in taken]
    used = np.array([v for v, _, _ in taken], int)
    ends = np.stack([vts[used], vts[used + 1]], 1).astype(np.float64)
    return pieces, seg_len[used], ends.reshape(-1, 2, 2)


def _vertex_places(chains: list[np.ndarray], polys: list[np.ndarray]):
    """Where each polyline's vertices lie along its chain, for all the chains at once (``_segments``): the chains'
    points end to end; the list of their places (indices into those) ordered by (chain, pixel, place); per vertex
    (the polylines end to end) the range ``lo:hi`` of that list holding its pixel on its chain, ascending; and where
    each chain starts. Looking each vertex up along its chain with a numpy search of its own was
    a good part of ``_segments``'s time (two searches per straight piece, about a thousand pieces a view)."""
    sizes = np.array([len(c) for c in chains])
    vsizes = np.array([len(p) for p in polys])
    pts, vts = np.concatenate(chains), np.concatenate(polys)
    key = np.repeat(np.arange(len(chains), dtype=np.int64) << 32, sizes) + pts[:, 0].astype(np.int64) * 65536 \
        + pts[:, 1]
    vkey = np.repeat(np.arange(len(polys), dtype=np.int64) << 32, vsizes) + vts[:, 0].astype(np.int64) * 65536 \
        + vts[:, 1]
    order = np.argsort(key, kind="stable")  # stable: a pixel's places along its chain ascending
    ordered = key[order]
    lo, hi = np.searchsorted(ordered, vkey, "left"), np.searchsorted(ordered, vkey, "right")
    firsts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return pts, order.tolist(), lo.tolist(), hi.tolist(), firsts.tolist()


def _lines(feat: np.ndarray, max_segments: int | None = None) -> list[_Line]:
    """Collinear segments merged into lines, longest first."""
    edges, angle = _edges(feat)
    # The Hough transform (C, without the GIL) on the other core while the chains are walked and merged here.
    hough = _in_background(_hough_segments, edges, angle)
    pieces, seg_len, ends = _segments(edges)
    S = len(pieces)
    if S == 0:
        hough()
        return []
    ids = np.repeat(np.arange(S), [len(p) for p in pieces])
    pts = np.concatenate(pieces).astype(np.float64)
    x, y = pts[:, 0], pts[:, 1]
    cnt = np.bincount(ids, minlength=S)
    k = seg_len / cnt  # each segment weighs its length, spread over its points
    moments = np.stack([cnt, *(np.bincount(ids, v, minlength=S) for v in (x, y, x * x, x * y, y * y))], 1) * k[:, None]
    seg_n, seg_rho = _fit_many(moments)
    order = np.argsort(-seg_len)[:max_segments]  # on grain or cloth thousands: the shortest add little
    normals = np.zeros((S, 2))
    rhos = np.zeros(S)
    lengths = np.zeros(S)
    sums = np.zeros((S, 6))
    count = 0
    cos_tol = math.cos(math.radians(3))
    for s in order:
        if count:
            match = np.abs(normals[:count] @ seg_n[s]) > cos_tol
            match &= np.abs(ends[s] @ normals[:count].T - rhos[:count]).max(0) <= 2.0
            hit = np.flatnonzero(match)
            if len(hit):
                i = int(hit[0])
                sums[i] += moments[s]
                lengths[i] += seg_len[s]
                normals[i], rhos[i] = _fit_one(sums[i])
                continue
        sums[count] = moments[s]
        lengths[count] = seg_len[s]
        normals[count], rhos[count] = seg_n[s], seg_rho[s]
        count += 1
    top = np.argsort(-lengths[:count])[:RAW_LINES]
    found = [_Line(normals[i], float(rhos[i]), float(lengths[i]), sums[i]) for i in top]
    return found + _hough_lines(hough(), angle, normals[top], rhos[top])


def _hough_segments(edges: np.ndarray, angle: np.ndarray) -> tuple[list[np.ndarray], bool]:
    """The probabilistic Hough transform's segments (x0, y0, x1, y1) of the edges, and whether the desk's own family
    of edges (stripes, grain) was taken out first (``_across_family``) and looked at again without it."""
    # On stripes or grain (one direction dominates the edges), a page's side crossing them is found again
    # without them. In that dense field a line in any direction meets an edge pixel every few px, and the
    # transform bridges them into long segments across the texture; a real line's pixels have their
    # gradient across it, so there a segment counts only where most of them do (HOUGH_ALIGNED, ``_hough_lines``).
    across = _across_family(edges, angle)
    found = [cv2.HoughLinesP(e, 1, math.pi / 360, threshold=40, minLineLength=4 * MIN_SEGMENT, maxLineGap=6)
             for e in ((edges,) if across is None else (edges, across))]
    return [f.reshape(-1, 4) for f in found if f is not None], across is not None


def _hough_lines(hough: tuple[list[np.ndarray], bool], angle: np.ndarray, normals: np.ndarray,
                 rhos: np.ndarray) -> list[_Line]:
    """Lines whose edge is broken into pieces shorter than MIN_SEGMENT (a page side on stripes or checks,
    where every stripe touching the page meets it): a probabilistic Hough transform bridges the gaps (``hough``:
    ``_hough_segments``); those a chain line (``normals``, ``rhos``) already covers are left out."""
    found, striped = hough
    if not found:
        return []
    segs = np.concatenate(found).astype(np.float64)
    lengths = np.hypot(segs[:, 2] - segs[:, 0], segs[:, 3] - segs[:, 1])
    out: list[_Line] = []
    cos_tol = math.cos(math.radians(3))
    cos_tol_edge = math.cos(math.radians(HOUGH_ACROSS))
    have_n = np.zeros((len(normals) + HOUGH_LINES, 2))
    have_r = np.zeros(len(normals) + HOUGH_LINES)
    have_n[:len(normals)], have_r[:len(normals)] = normals, rhos
    count = len(normals)
    t = np.linspace(0.0, 1.0, 32)
    for k in np.argsort(-lengths):
        if len(out) >= HOUGH_LINES:
            break
        x0, y0, x1, y1 = segs[k]
        d = np.array([x1 - x0, y1 - y0]) / lengths[k]
        n = np.array([-d[1], d[0]])
        r = float(n @ [x0, y0])
        dots = have_n[:count] @ n
        if (np.abs(dots) > cos_tol)[np.abs(r - have_r[:count] * np.sign(dots)) <= 2.0].any():
            continue
        xs = np.round(x0 + t * (x1 - x0)).astype(int)
        ys = np.round(y0 + t * (y1 - y0)).astype(int)
        aligned = np.abs(np.cos(angle[ys, xs]) * n[0] + np.sin(angle[ys, xs]) * n[1]) > cos_tol_edge
        if striped and aligned.mean() < HOUGH_ALIGNED:
            continue
        have_n[count], have_r[count] = n, r
        count += 1
        out.append(_Line(n, r, float(lengths[k]), np.zeros(6)))
    return out


def _across_family(edges: np.ndarray, angle: np.ndarray) -> np.ndarray | None:
    """The edges without the desk's own family: where one direction (STRIPE_BIN) holds more than
    STRIPE_SHARE of the edge pixels (stripes, grain), those pixels are dropped, so that a page's side
    crossing them is a chain of its own again. None when no direction dominates."""
    on = edges > 0
    bins = (np.degrees(angle[on]) % 180 // STRIPE_BIN).astype(int)
    counts = np.bincount(bins, minlength=int(180 // STRIPE_BIN))
    counts = counts + np.roll(counts, 1) + np.roll(counts, -1)   # the bin and its neighbours
    top = int(np.argmax(counts))
    if counts[top] < STRIPE_SHARE * max(1, int(on.sum())):
        return None
    off = (np.degrees(angle) % 180 - (top + 0.5) * STRIPE_BIN + 90) % 180 - 90
    return np.where(np.abs(off) > 1.5 * STRIPE_BIN, edges, 0).astype(edges.dtype)


# --- quadrilaterals ----------------------------------------------------------------------------------


def _samples_along(lines: list[_Line], w: int, h: int):
    """The points ``_profiles`` samples, every line's at once: a point per unit of its parameter t over the part in
    the image (its start and count per line; one point at t 0 where none is in it), as float32 x, y and the line's
    normal at each. The same values to the bit as made line by line (t whole numbers in float32; x, y in float64 as
    p0 + t d, then float32), without a dozen numpy calls per line (two hundred lines a view)."""
    normals = np.array([ln.normal for ln in lines])
    p0 = normals * np.array([ln.rho for ln in lines])[:, None]
    dirs = np.stack([-normals[:, 1], normals[:, 0]], 1)
    first, counts = np.zeros(len(lines), np.int64), np.ones(len(lines), np.int64)
    for i in range(len(lines)):
        t0, t1 = _clip_param(p0[i], dirs[i], w, h)
        a, b = math.floor(t0), math.ceil(t1) + 1
        if b > a:  # (else one point, at t 0)
            first[i], counts[i] = a, b - a
    at = np.repeat(np.cumsum(counts) - counts, counts)
    ts = (np.arange(int(counts.sum())) - at + np.repeat(first, counts)).astype(np.float32)
    x = (np.repeat(p0[:, 0], counts) + ts * np.repeat(dirs[:, 0], counts)).astype(np.float32)
    y = (np.repeat(p0[:, 1], counts) + ts * np.repeat(dirs[:, 1], counts)).astype(np.float32)
    nx = np.repeat(normals[:, 0].astype(np.float32), counts)
    ny = np.repeat(normals[:, 1].astype(np.float32), counts)
    return x, y, nx, ny, first.astype(np.float64).tolist(), counts


def _profiles(feat: np.ndarray, lines: list[_Line], blind: np.ndarray | None = None):
    """Per line: start parameter, and cumulative 'step with + side brighter' / 'darker' along it, and of the
    samples that fall where ``blind`` (a mask of the working image: blown out) says nothing can be seen."""
    h, w = feat.shape[:2]
    x0, y0, nx, ny, starts, counts = _samples_along(lines, w, h)
    mag, lum = _step(feat, x0, y0, nx, ny)
    x, y = x0, y0
    inside = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
    strength = np.clip((mag - 0.02) / 0.04, 0, 1) * inside
    pos = strength * (lum > 0)
    neg = strength * (lum <= 0)
    # Per line the cumulative sums, padded with their last value to one width: P[line, t], N[line, t].
    lens = counts + 1
    width = int(lens.max())
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    col = np.arange(width)
    idx = np.minimum(col[None, :] - 1, counts[:, None] - 1)        # sample index within the line
    flat = first[:, None] + np.maximum(idx, 0)

    def cumulative(values):
        cs = np.concatenate([[0.0], np.cumsum(values)])
        base = cs[first]
        out = cs[flat + 1] - base[:, None]
        out[:, 0] = 0.0
        return out

    P, N = cumulative(pos), cumulative(neg)
    if blind is None:  # nothing blown out: no sample unseen (the sums all 0, as summed)
        return np.array(starts), P, N, np.zeros(P.shape), lens
    xi, yi = np.clip(np.round(x), 0, w - 1).astype(int), np.clip(np.round(y), 0, h - 1).astype(int)
    return np.array(starts), P, N, cumulative(blind[yi, xi] * inside), lens


def _step(feat, x, y, nx, ny):
    """Step magnitude (ridges discounted) and signed luminance step across the line at points x, y."""
    n = len(x)
    k, k2 = STEP_OFFSET, 2 * STEP_OFFSET
    # The four offsets' samples in one remap (maps narrower than 32767: the samples folded into rows of 1024).
    px = np.concatenate([x + k * nx, x - k * nx, x + k2 * nx, x - k2 * nx])
    py = np.concatenate([y + k * ny, y - k * ny, y + k2 * ny, y - k2 * ny])
    cols = 1024
    pad = (-len(px)) % cols
    px, py = np.pad(px, (0, pad), mode="edge"), np.pad(py, (0, pad), mode="edge")
    out = cv2.remap(feat, px.reshape(-1, cols), py.reshape(-1, cols), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    out = out.reshape(-1, out.shape[-1] if out.ndim == 3 else 1)
    plus, minus, plus2, minus2 = (out[i * n:(i + 1) * n][None] for i in range(4))
    diff = (plus - minus)[0]
    mag = np.sqrt(_csum(diff * diff))
    # A printed frame or a bold rule is a ridge: on its flank the step looks like a page edge, but a few
    # pixels further out the picture is back at the level of the other side (paper, frame, paper). A page
    # edge does not come back: the desk stays desk. So the step counts only as far as the far samples
    # stay away from the opposite near level. Lenient (×2.5), because a contact shadow hugging a
    # low-contrast edge also deepens the near step (the far samples are 2 x STEP_OFFSET out).
    back = np.minimum(np.sqrt(_csum((plus2 - minus) ** 2)), np.sqrt(_csum((minus2 - plus) ** 2)))[0]
    return np.minimum(mag, 2.5 * back), _csum(diff)


def _clip_param(p0, d, w, h):
    lo, hi = -1e9, 1e9
    for k, limit in ((0, w - 1), (1, h - 1)):
        if abs(d[k]) < 1e-9:
            if not 0 <= p0[k] <= limit:
                return 0.0, -1.0
            continue
        a, b = (0 - p0[k]) / d[k], (limit - p0[k]) / d[k]
        lo, hi = max(lo, min(a, b)), min(hi, max(a, b))
    return lo, hi


def _best_quad(feat: np.ndarray, lines: list[_Line], blind: np.ndarray | None = None):
    h, w = feat.shape[:2]
    starts, P, N, U, lens = _profiles(feat, lines, blind)
    # Wood grain, stripes and weaves make many long lines with little or inconsistent step: keep the lines
    # with the most length of consistent step (either polarity), not merely the longest.
    rows = np.arange(len(lines))
    evidence = np.maximum(P[rows, lens - 1], N[rows, lens - 1])
    # Grain and stripes come in families of parallel lines; a page side has one or two parallels.
    normals_all = np.array([ln.normal for ln in lines])
    family = (np.abs(normals_all @ normals_all.T) > math.cos(math.radians(4))).sum(1)
    lengths = np.array([ln.length for ln in lines])
    picks = [np.argsort(-lengths, kind="stable")[:PICK], np.argsort(-evidence, kind="stable")[:PICK],
             np.argsort(-evidence / np.maximum(1, family - 2), kind="stable")[:PICK]]
    keep = []
    for rank in range(PICK):
        for order in picks:
            if rank < len(order) and order[rank] not in keep:
                keep.append(int(order[rank]))
    keep = keep[:MAX_LINES]
    keep += [c for c in _receipt_ends(lines, starts, P, N, lens, evidence) if c not in keep]
    keep = np.sort(np.array(keep))
    lines = [lines[i] for i in keep]
    starts, P, N, U, lens = starts[keep], P[keep], N[keep], U[keep], lens[keep]
    K = len(lines)
    normals = np.array([ln.normal for ln in lines])
    rhos = np.array([ln.rho for ln in lines])
    dirs = np.c_[-normals[:, 1], normals[:, 0]]

    cosang = np.abs(normals @ normals.T)
    # Intersections of every pair of lines.
    det = normals[:, None, 0] * normals[None, :, 1] - normals[:, None, 1] * normals[None, :, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        X = (rhos[:, None] * normals[None, :, 1] - rhos[None, :] * normals[:, None, 1]) / det
        Y = (normals[:, None, 0] * rhos[None, :] - normals[None, :, 0] * rhos[:, None]) / det
    crossing = cosang < math.cos(math.radians(25))  # may be adjacent sides
    opposite = cosang > math.cos(math.radians(50))   # may be opposite sides
    iu, ju = np.triu_indices(K, 1)
    keep = opposite[iu, ju]
    pi, pj = iu[keep], ju[keep]
    npairs = len(pi)
    if npairs < 2:
        return None
    a, b = np.triu_indices(npairs, 1)
    i, j, k, m = pi[a], pj[a], pi[b], pj[b]
    ok = (i != k) & (i != m) & (j != k) & (j != m)
    ok &= crossing[i, k] & crossing[k, j] & crossing[j, m] & crossing[m, i]
    i, j, k, m = i[ok], j[ok], k[ok], m[ok]
    if len(i) == 0:
        return None
    # Corners: A on sides i,k; B on k,j; C on j,m; D on m,i.
    cx = np.stack([X[i, k], X[k, j], X[j, m], X[m, i]], 1)
    cy = np.stack([Y[i, k], Y[k, j], Y[j, m], Y[m, i]], 1)
    margin = 0.02 * max(w, h)
    inside = _fold(np.logical_and, (cx > -margin) & (cx < w - 1 + margin) & (cy > -margin) & (cy < h - 1 + margin))
    cx_next, cy_next = np.roll(cx, -1, 1), np.roll(cy, -1, 1)  # (each corner's next, rolled once for both uses)
    ex, ey = cx_next - cx, cy_next - cy
    cross = ex * np.roll(ey, -1, 1) - ey * np.roll(ex, -1, 1)
    convex = _fold(np.logical_and, cross > 0) | _fold(np.logical_and, cross < 0)
    area = 0.5 * np.abs(_csum(cx * cy_next - cx_next * cy))
    side_len = np.hypot(ex, ey)
    good = inside & convex & (area > MIN_AREA * w * h) & (_fold(np.minimum, side_len) > 2 * MIN_SEGMENT)
    if not good.any():
        return None
    i, j, k, m = i[good], j[good], k[good], m[good]
    cx, cy, area, side_len = cx[good], cy[good], area[good], side_len[good]
    mx, my = _csum(cx) / 4, _csum(cy) / 4

    # Side s of the quad lies on line L between corners (prev, next).
    side_lines = np.stack([i, k, j, m], 1)      # sides: D-A on i, A-B on k, B-C on j, C-D on m
    c_to = (cx, cy)
    bright = np.zeros(side_lines.shape)
    dark = np.zeros(side_lines.shape)
    lengths = np.zeros(side_lines.shape)
    for s in range(4):
        L = side_lines[:, s]
        d = dirs[L]
        n = normals[L]
        t_a = (cx[:, s - 1] * d[:, 0] + cy[:, s - 1] * d[:, 1])  # the corner before: D, A, B, C
        t_b = (c_to[0][:, s] * d[:, 0] + c_to[1][:, s] * d[:, 1])
        lo, hi = np.minimum(t_a, t_b), np.maximum(t_a, t_b)
        length = hi - lo
        # Ignore the last few % near each corner: corners are often rounded, dog-eared or in shadow.
        cut = 0.05 * length
        ia = np.clip(np.round(lo + cut - starts[L]).astype(int), 0, lens[L] - 1)
        ib = np.clip(np.round(hi - cut - starts[L]).astype(int), 0, lens[L] - 1)
        pos = P[L, ib] - P[L, ia]
        neg = N[L, ib] - N[L, ia]
        span = np.maximum(hi - lo - 2 * cut, 1.0)
        # Where a lamp's reflection blows out both sides of a side, nothing can be seen there: the share of
        # step is taken over the rest of it (at least SEEN_SHARE of it).
        seen = np.maximum(span - (U[L, ib] - U[L, ia]), SEEN_SHARE * span)
        interior_plus = (mx * n[:, 0] + my * n[:, 1] - rhos[L]) > 0
        bright[:, s] = np.where(interior_plus, pos, neg) / seen
        dark[:, s] = np.where(interior_plus, neg, pos) / seen
        lengths[:, s] = span
    perim = _csum(lengths)
    polarity = np.maximum(_csum(bright * lengths), _csum(dark * lengths)) / perim
    per_side = np.maximum(bright, dark)
    weakest = _fold(np.minimum, per_side)
    score = polarity * np.sqrt(np.clip(weakest, 0, 1)) * (area / (w * h)) ** AREA_POWER
    # Re-rank the leaders with wider evidence: a page side has paper on one side and, well beyond the
    # edge, still not paper on the other. An inner rule, a table, a photo block or a band inside the page
    # passes the near step but not this, and neither does a quad cut through a textured desk.
    top = np.argsort(-score)[:RERANK]
    wide = _wide_support(feat, cx[top], cy[top], blind)
    final = score[top] * (0.4 + 0.6 * wide.mean(1)) * (0.5 + 0.5 * wide.min(1))
    best = int(top[int(np.argmax(final))])
    if polarity[best] * math.sqrt(max(weakest[best], 0)) < MIN_SCORE:
        return None
    quad = np.stack([cx[best], cy[best]], 1)
    sides = [int(k[best]), int(j[best]), int(m[best]), int(i[best])]  # side s runs from corner s to s + 1
    quad = _extend(quad, sides, normals, rhos, dirs, starts, P, N, lens, w, h,
                   lambda new, old: _desk_strip(feat, new, old))
    sel = int(np.flatnonzero(top == best)[0])
    base = float(polarity[best] * math.sqrt(max(weakest[best], 0)))
    rival = _rival(quad, cx[top], cy[top], final / final[sel])
    return quad, (base, float(wide[sel].mean()), float(wide[sel].min()), rival), float(final[sel])


def _receipt_ends(lines: list[_Line], starts, P, N, lens, evidence: np.ndarray) -> list[int]:
    """The lines that may be a till receipt's two short ends, kept for the quadrilateral search besides the PICK
    rankings. A receipt's end is as short as it is wide (40-80 px at working size, 2 % of the lines' length) and
    parallel to its print rows: by length, evidence and evidence off its family it ranked 21st-60th of 160 and was
    left out, so its quadrilateral was never formed (tune2 long_receipt/1007 at 1080p: the QR end's line 24th, 57th,
    23rd; "no page"). Two of the ENDS_LEAD lines leading by evidence, parallel within ENDS_PARALLEL degrees and
    ENDS_APART px or more apart, are a receipt's long sides where lines crossing both (within ENDS_SQUARE degrees
    of square) with a step (either way) along ENDS_STEP of the part between them lie LONG_ASPECT of that width apart
    or more along them, with ENDS_ROWS more between those two (ENDS_APART px in from both: not an end's second line),
    and the two long sides step along ENDS_STEP of their part between those two ends: the outermost such line at
    each end is kept. A receipt is printed across its width (rows, dashed rules) between its ends; a ruler's ticks,
    a pen or a phone is not (a ticked ruler ended so was straightened: 0.53 -> 0.93 without it). At most ENDS_PAIRS
    pairs, the best by the pair's evidence; nothing is kept where no pair is receipt-shaped. Only the strongest
    lines (a receipt's long sides rank 1st-2nd): of the first PICK, a passport's text rows and bands made 60 pairs and
    one of them took the photo's border for an end (real xmrzapp/example1: asked, 0.93 at 0.72 -> 0.89 at 0.83); of
    the first 4, a wrong pair's ends won on tune3 long_receipt/1001 (0.996 at 0.68 -> 0.856 at 0.75)."""
    lead = [int(i) for i in np.argsort(-evidence, kind="stable")[:ENDS_LEAD]]
    normals = np.array([ln.normal for ln in lines])
    rhos = np.array([ln.rho for ln in lines])
    dirs = np.c_[-normals[:, 1], normals[:, 0]]
    starts = np.array(starts)

    def meets(on, other):
        """Where the lines ``on`` meet the lines ``other``, as the parameter t along ``on`` (normal * rho + t dir)."""
        return (rhos[other] - rhos[on] * np.sum(normals[on] * normals[other], -1)) / \
            np.sum(dirs[on] * normals[other], -1)

    def stepping(on, t0, t1):
        """The share of the lines ``on`` between t0 and t1 that steps, either way (an end half under a shade)."""
        lo, hi = np.minimum(t0, t1), np.maximum(t0, t1)
        i0 = np.clip(np.round(lo - starts[on]).astype(int), 0, lens[on] - 1)
        i1 = np.clip(np.round(hi - starts[on]).astype(int), 0, lens[on] - 1)
        return (P[on, i1] - P[on, i0] + N[on, i1] - N[on, i0]) / np.maximum(hi - lo, 1.0)

    def beyond(on, t0, t1):
        """``stepping``'s share of the part of t0..t1 in the photo, not of all of it (a line beyond a side that leaves
        the photo is not seen to stop there: tune2 long_receipt/1044, a desk line off the receipt's end was kept)."""
        lo, hi = np.minimum(t0, t1), np.maximum(t0, t1)
        seen = np.minimum(hi, starts[on] + lens[on] - 1) - np.maximum(lo, starts[on])
        return stepping(on, t0, t1) * np.maximum(hi - lo, 1.0) / np.maximum(seen, ENDS_GAP)

    found = []
    for a, b in itertools.combinations(lead, 2):
        if abs(float(normals[a] @ normals[b])) < math.cos(math.radians(ENDS_PARALLEL)):
            continue
        width = abs(rhos[a] - (1.0 if normals[a] @ normals[b] > 0 else -1.0) * rhos[b])
        if width < ENDS_APART:
            continue
        across = np.abs(normals @ normals[a]) < math.sin(math.radians(ENDS_SQUARE))
        across[[a, b]] = False
        c = np.flatnonzero(across)
        if len(c) < 2 + ENDS_ROWS:
            continue
        ta, tb = meets(c, a), meets(c, b)
        ends = stepping(c, ta, tb) >= ENDS_STEP
        if ends.sum() < 2 + ENDS_ROWS:
            continue
        c, ta, tb = c[ends], ta[ends], tb[ends]
        along = (normals[c] * rhos[c][:, None] + dirs[c] * ((ta + tb) / 2)[:, None]) @ dirs[a]
        first, last = int(np.argmin(along)), int(np.argmax(along))
        rows = (along > along[first] + ENDS_APART) & (along < along[last] - ENDS_APART)  # (not an end seen twice)
        if along[last] - along[first] < LONG_ASPECT * width or rows.sum() < ENDS_ROWS:
            continue
        # … and the two long sides step along ENDS_STEP of their part between the two ends (leaf edges on a cloth
        # paired by chance do not: tune2 tablecloth/1002)
        pair = np.array([a, b])
        if (stepping(pair, meets(pair, np.array([c[first]] * 2)), meets(pair, np.array([c[last]] * 2)))
                < ENDS_STEP).any():
            continue
        # … and its two ends stop at the long sides: neither steps along ENDS_BEYOND of one width beyond either side
        # (a receipt's end has the desk both sides of it there; a cloth's check line runs on across the cloth)
        ends2 = np.array([c[first], c[last]])
        ta2, tb2 = ta[[first, last]], tb[[first, last]]
        out = np.sign(tb2 - ta2) * width  # from a towards b, one width
        gap = np.sign(tb2 - ta2) * ENDS_GAP
        if (np.maximum(beyond(ends2, ta2 - out, ta2 - gap), beyond(ends2, tb2 + gap, tb2 + out))
                >= ENDS_BEYOND).any():
            continue
        found.append((float(evidence[a] + evidence[b]), int(c[first]), int(c[last])))
    found.sort(reverse=True)
    return list(dict.fromkeys(i for _, *ends in found[:ENDS_PAIRS] for i in ends))


def _rival(quad: np.ndarray, cx: np.ndarray, cy: np.ndarray, ratio: np.ndarray) -> float:
    """The rank, as a share of the winner's, of the best-ranked quadrilateral apart from the winner (sharing
    at most RIVAL_OVERLAP of the smaller one's area): a second sheet in view, nearly as well outlined, makes
    the choice a guess however well the winner itself is outlined."""
    win = order_corners(quad).astype(np.float32)
    win_area = abs(_area(win))
    best = 0.0
    for r in np.argsort(-ratio):
        if ratio[r] <= best or ratio[r] < RIVAL_SHARE:
            break
        other = order_corners(np.stack([cx[r], cy[r]], 1)).astype(np.float32)
        common, _ = cv2.intersectConvexConvex(win, other)
        if common <= RIVAL_OVERLAP * min(win_area, abs(_area(other))):
            best = float(min(1.0, ratio[r]))
    return best


def _wide_support(feat: np.ndarray, cx: np.ndarray, cy: np.ndarray, blind: np.ndarray | None = None) -> np.ndarray:
    """Per quad and side (T, 4): the share of the side where the inside, WIDE_IN px in, differs from the
    outside both WIDE_OUT and 2 × WIDE_OUT px out (log colour distance above WIDE_STEP); of its part that
    ``blind`` (blown out) does not hide."""
    q = np.stack([cx, cy], -1)                      # (T, 4, 2)
    a, b = q, np.roll(q, -1, axis=1)
    e = b - a
    length = np.maximum(np.linalg.norm(e, axis=-1, keepdims=True), 1e-6)
    d = e / length
    n = np.stack([-d[..., 1], d[..., 0]], -1)
    centre = q.mean(1, keepdims=True)
    sign = np.sign(((centre - a) * n).sum(-1, keepdims=True))
    n = n * np.where(sign == 0, 1, sign)            # n points into the quad
    t = np.linspace(0.1, 0.9, 16)[None, None, :, None]
    pts = a[:, :, None] + t * e[:, :, None]         # (T, 4, 16, 2)
    nn = n[:, :, None]
    depth = np.minimum(WIDE_IN, 0.2 * length.min(1, keepdims=True))[..., None]
    offs = [depth, -WIDE_OUT, -2 * WIDE_OUT]
    h, w = feat.shape[:2]
    flat = [(pts + o * nn).reshape(-1, 2) for o in offs]
    xy = np.concatenate(flat).astype(np.float32)
    vals = cv2.remap(feat, np.clip(xy[:, 0], 0, w - 1).reshape(-1, 1), np.clip(xy[:, 1], 0, h - 1).reshape(-1, 1),
                     cv2.INTER_LINEAR).reshape(3, -1, feat.shape[2])
    near = _cnorm(vals[0] - vals[1])
    far = _cnorm(vals[0] - vals[2])
    ok = (near > WIDE_STEP) & (far > WIDE_STEP)
    ok = ok.reshape(pts.shape[:3])
    if blind is None:
        return ok.mean(-1)
    # Where the side is blown out (a lamp's reflection over it), nothing can be seen: the share is taken
    # over the rest of it (at least SEEN_SHARE of it).
    on = np.clip(np.round(pts), 0, [w - 1, h - 1]).astype(int)
    seen = 1 - blind[on[..., 1], on[..., 0]]
    return (ok * seen).sum(-1) / np.maximum(seen.sum(-1), SEEN_SHARE * ok.shape[-1])


def _extend(quad, sides, normals, rhos, dirs, starts, P, N, lens, w, h, desk=None):
    """Grow the winner past an inner edge that only looks like a side.

    An ID card's coloured band, a letterhead band or a long row of text makes a straight step across the
    page, and the part of the page on one side of it is a well-outlined quadrilateral of its own, often
    a better one than the whole page (whose border changes polarity where the band meets the desk). The
    tell is that the two neighbouring sides carry on, still a real step, past the inner edge to another
    line. So each side is replaced by the farthest line outside it for which the neighbours' extensions
    and the new side itself are real steps (either polarity, each consistent along its stretch), and the strip
    taken is not a piece of the desk (``desk``: a function of the grown and the old quad, ``_desk_strip``)."""

    def support(L, p0, p1, inside, cut=0.0):
        """Shares of the stretch p0-p1 of line L that step up / down towards the point ``inside``."""
        d = dirs[L]
        ta, tb = p0[0] * d[0] + p0[1] * d[1], p1[0] * d[0] + p1[1] * d[1]
        lo, hi = min(ta, tb), max(ta, tb)
        c = cut * (hi - lo)
        ia = int(np.clip(round(lo + c - starts[L]), 0, lens[L] - 1))
        ib = int(np.clip(round(hi - c - starts[L]), 0, lens[L] - 1))
        span = max(hi - lo - 2 * c, 1.0)
        pos, neg = (P[L, ib] - P[L, ia]) / span, (N[L, ib] - N[L, ia]) / span
        if normals[L] @ inside - rhos[L] > 0:
            return pos, neg, hi - lo
        return neg, pos, hi - lo

    def meet(a, b):
        n1, r1, n2, r2 = normals[a], rhos[a], normals[b], rhos[b]
        det = n1[0] * n2[1] - n1[1] * n2[0]
        if abs(det) < 1e-6:
            return None
        return np.array([(r1 * n2[1] - r2 * n1[1]) / det, (n1[0] * r2 - n2[0] * r1) / det])

    margin = 0.02 * max(w, h)
    cos_parallel = math.cos(math.radians(20))
    for _ in range(2):
        grown = False
        for s in range(4):
            prev_line, line, next_line = sides[s - 1], sides[s], sides[(s + 1) % 4]
            area0 = abs(_area(quad))
            centre = quad.mean(axis=0)
            inward = np.sign(normals[line] @ centre - rhos[line])
            best_m, best_gain = None, 0.0
            for m in range(len(rhos)):
                if m in sides or abs(normals[m] @ normals[line]) < cos_parallel:
                    continue
                a, b = meet(prev_line, m), meet(m, next_line)
                if a is None or b is None:
                    continue
                # Both new corners beyond the old side (outside the quadrilateral), inside the photo.
                da, db = normals[line] @ a - rhos[line], normals[line] @ b - rhos[line]
                if not (da * inward < -2 and db * inward < -2):
                    continue
                if not all(-margin < p[0] < w - 1 + margin and -margin < p[1] < h - 1 + margin for p in (a, b)):
                    continue
                new = quad.copy()
                new[s], new[(s + 1) % 4] = a, b
                area = abs(_area(new))
                if area > 10 * area0 or not _convex(new):
                    continue
                # Each new stretch must be a consistent step, and the new side must step the same way as
                # at least one neighbour (the strip is one region; a paper under the page may turn one
                # neighbour's step round).
                inside = (quad[s] + quad[(s + 1) % 4] + a + b) / 4
                b1, d1, l1 = support(prev_line, quad[s], a, inside)
                b2, d2, l2 = support(next_line, quad[(s + 1) % 4], b, inside)
                b3, d3, _ = support(m, a, b, inside, cut=0.05)
                ok = min(max(b1, d1), max(b2, d2), max(b3, d3)) >= EXTEND_SUPPORT
                ok &= max(min(b1, b3), min(d1, d3), min(b2, b3), min(d2, d3)) >= EXTEND_SUPPORT
                if not ok or min(l1, l2) < 3:
                    continue
                if area > best_gain:
                    best_m, best_gain, best_quad = m, area, new
            if best_m is not None and not (desk is not None and desk(best_quad, quad)):
                quad, sides[s], grown = best_quad, best_m, True
        if not grown:
            break
    return quad


def _desk_strip(feat: np.ndarray, outer: np.ndarray, inner: np.ndarray) -> bool:
    """Whether the strip a grown quad ``outer`` adds to ``inner`` is a piece of the desk (2026-12-06 night, branch
    finder-cloth): CLOTH_SHARE of its pixels (off both quads' edges) have a colour within CLOTH_NEAR of one of the
    desk's around ``inner`` (4-15 px out, away from the strip: what lies beyond the strip may be more of a document).
    A printed cloth (argyle, leaves) has lines and leaf edges parallel to a page's side that step consistently, and
    its median colour changes with what part of the print a strip holds; but every colour in it is the cloth's own.
    A card's band, a page's fold or its part beyond a row of print is paper or ink."""
    moved = np.linalg.norm(np.asarray(outer) - np.asarray(inner), axis=1) > 0.5  # the new side's two corners
    side = float(np.linalg.norm(np.subtract(*np.asarray(outer)[moved]))) if moved.sum() == 2 else 0.0
    if abs(_area(outer)) - abs(_area(inner)) < CLOTH_WIDE * max(side, 1.0):
        return False  # a narrow strip is mostly its edges' blur: its colours say nothing
    band, desk, strip = _added_and_beside(feat.shape[:2], outer, inner)
    desk &= ~(cv2.dilate(strip, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (31, 31))) > 0)  # away from the strip
    if moved.sum() == 2:  # nor beyond the side opposite the strip: more of the document may lie there too (a card's
        # second band, a page's footer of its header's colour), so only beyond the two sides the strip carries on
        a, b = np.asarray(inner, np.float64)[~moved]
        n = np.array([b[1] - a[1], a[0] - b[0]])
        n = n * np.sign(n @ (np.asarray(inner, np.float64).mean(0) - a))  # towards the inside
        h, w = feat.shape[:2]
        desk &= (np.arange(w)[None, :] - a[0]) * n[0] + (np.arange(h)[:, None] - a[1]) * n[1] >= 0
    if band.sum() < 20 or desk.sum() < 20:
        return False
    inside = cv2.erode(_quad_mask(feat.shape[:2], order_corners(inner)), np.ones((9, 9), np.uint8)) > 0
    if _rough_as_desk(feat, band, desk, inside):
        return True
    strip, beside = feat[band], feat[desk]
    strip, beside = strip[::-(-len(strip) // 400)], beside[::-(-len(beside) // 800)]  # at most 400 x 800 samples
    near = np.linalg.norm(strip[:, None] - beside[None], axis=-1).min(1)
    return float((near < CLOTH_NEAR).mean()) >= CLOTH_SHARE


def _rough_as_desk(feat: np.ndarray, band: np.ndarray, desk: np.ndarray, inside: np.ndarray) -> bool:
    """Whether a strip (mask ``band``) is as rough as a textured desk beside it (``desk``; 2026-12-07, branch
    finder-t3cloth): the median gradient of ``feat`` in the desk is at least ROUGH_DESK (not paper: print covers less
    than half of a page, so its median is its paper's, below FLAT_GRADIENT) and the strip's is at least ROUGH_ALIKE
    of it. A cloth of vinyl tiles has patches of inked tiles far larger than the desk sampled beside a page, so its
    colours in a strip are not all among them (``_desk_strip``'s palette), but its thin lines are everywhere; a card's
    band, a page's fold or its part beyond a row of print is paper, its median gradient the paper's. But in the blurred
    log colour ``_extend`` works on, printed paper is rough too (a receipt's print 0.05-0.08, fine stripes 0.12), so the
    strip must also be ROUGH_INSIDE times rougher than the document found (``inside``; review of finder-t3cloth)."""
    ys, xs = np.nonzero(band | desk | inside)
    y0, y1, x0, x1 = max(0, ys.min() - 1), ys.max() + 2, max(0, xs.min() - 1), xs.max() + 2
    g = _gradient(np.asarray(feat[y0:y1, x0:x1], np.float32))
    rough = float(np.median(g[desk[y0:y1, x0:x1]]))
    strip = float(np.median(g[band[y0:y1, x0:x1]]))
    if rough < ROUGH_DESK or strip < ROUGH_ALIKE * rough:
        return False
    inside = inside[y0:y1, x0:x1]
    return inside.sum() < 20 or strip > ROUGH_INSIDE * float(np.median(g[inside]))


def _calm_along(gradient: tuple[np.ndarray, np.ndarray], strip: np.ndarray) -> float:
    """Share of a strip (a, A, B, b: grown from side a-b to A-B) that changes little along the new side's
    direction in the texture-free view (``gradient``: its log-colour x and y gradients; every channel below
    FLAT_GRADIENT / 2 per px). A curled end's shading changes across the fold, not along it; the print's
    remains in that view mostly across it too (lines ending at a right-aligned margin)."""
    d = strip[2] - strip[1]
    d = d / max(float(np.hypot(*d)), 1e-6)
    # Only around the strip (time: the whole view for every strip tried was most of the growth step's).
    h, w = gradient[0].shape[:2]
    x0, y0 = max(0, int(math.floor(strip[:, 0].min())) - 1), max(0, int(math.floor(strip[:, 1].min())) - 1)
    x1, y1 = min(w, int(math.ceil(strip[:, 0].max())) + 2), min(h, int(math.ceil(strip[:, 1].max())) + 2)
    if x1 <= x0 or y1 <= y0:
        return 0.0
    along = np.abs(gradient[0][y0:y1, x0:x1] * d[0] + gradient[1][y0:y1, x0:x1] * d[1])
    along = _fold(np.maximum, along) if along.ndim == 3 else along
    return _smooth_share((along < FLAT_GRADIENT / 2).astype(np.uint8), strip - np.array([x0, y0], strip.dtype))


def _grow(feat: np.ndarray, calm: np.ndarray, quad: np.ndarray,
          gradient: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Grow a winner past an inner edge, searching for the new side directly (``_extend`` only looks among
    the lines the line search kept, and on a checked cloth or grain the side of a card's body seldom is
    one of them). Each side in turn is tried at every pair of positions along its two neighbours, out to
    GROW_REACH of the neighbour's length beyond it; it moves to the farthest where, as in ``_extend``,
    the neighbours' extensions and the new side are consistent steps and the new side steps the same
    way as one of the neighbours' extensions (the strip is one region: an ID card's body beyond its band)."""
    h, w = feat.shape[:2]
    q = order_corners(quad)
    margin = 0.02 * max(w, h)
    for _ in range(3):
        grown = False
        for s in range(4):
            a, b = q[s], q[(s + 1) % 4]
            prev_from, next_to = q[s - 1], q[(s + 2) % 4]
            ua, ub = a - prev_from, b - next_to        # outward along the neighbours
            la, lb = float(np.hypot(*ua)), float(np.hypot(*ub))
            if min(la, lb) < 2 * MIN_SEGMENT:
                continue
            ua, ub = ua / la, ub / lb

            def ray(start, u, length, inward):
                """Shares of the ray start + t u (t = 1 … length px) that step up / down towards ``inward``,
                cumulative, and where it leaves the photo (with the margin)."""
                t = np.arange(1, int(length) + 1, dtype=np.float32)
                pts = start + t[:, None] * u
                nx = np.full(len(t), inward[0], np.float32)
                ny = np.full(len(t), inward[1], np.float32)
                mag, lum = _step(feat, pts[:, 0].astype(np.float32), pts[:, 1].astype(np.float32), nx, ny)
                strength = np.clip((mag - 0.02) / 0.04, 0, 1)
                inside = ((pts > -margin) & (pts < [w - 1 + margin, h - 1 + margin])).all(1)
                # Where the ray crosses a far edge (the strip's end): a few px inside the strip, the colour
                # changes along the ray. Those positions are tried besides a regular grid (which may fall
                # between a band's edge and the next stripe).
                deep = (pts + 2 * STEP_OFFSET * np.array([nx[0], ny[0]])).astype(np.float32)
                f = cv2.remap(feat, deep[:, :1], deep[:, 1:], cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE).reshape(len(t), -1)
                change = np.zeros(len(t), np.float32)
                if len(t) > 4:
                    change[2:-2] = np.linalg.norm(f[4:] - f[:-4], axis=1)
                peaks = np.flatnonzero((change[1:-1] >= change[:-2]) & (change[1:-1] > change[2:])
                                       & (change[1:-1] > 0.05)) + 1
                peaks = peaks[np.argsort(-change[peaks])[:GROW_CROSSINGS]] + 1   # t of the sample (t = index + 1)
                return (np.cumsum(strength * (lum > 0)), np.cumsum(strength * (lum <= 0)), np.cumsum(strength),
                        inside, peaks)

            def inward_of(p0, p1, c=q.mean(axis=0)):  # noqa: B008 (the quad as it is now)
                d = (p1 - p0) / max(float(np.hypot(*(p1 - p0))), 1e-6)
                n = np.array([-d[1], d[0]])
                return n if (c - p0) @ n > 0 else -n

            reach_a, reach_b = GROW_REACH * la, GROW_REACH * lb
            pa, na_, ma, ina, xa = ray(a, ua, reach_a, inward_of(prev_from, a))
            pb, nb_, mb, inb, xb = ray(b, ub, reach_b, inward_of(b, next_to))
            ta = np.arange(MIN_SEGMENT, len(pa), max(2, len(pa) // 60))
            tb = np.arange(MIN_SEGMENT, len(pb), max(2, len(pb) // 60))
            ta = np.unique(np.concatenate([ta, xa[(xa >= MIN_SEGMENT) & (xa <= len(pa))]]))
            tb = np.unique(np.concatenate([tb, xb[(xb >= MIN_SEGMENT) & (xb <= len(pb))]]))
            ta, tb = ta[ina[ta - 1]], tb[inb[tb - 1]]
            if len(ta) == 0 or len(tb) == 0:
                continue
            b1, d1, m1 = pa[ta - 1] / ta, na_[ta - 1] / ta, ma[ta - 1] / ta
            b2, d2, m2 = pb[tb - 1] / tb, nb_[tb - 1] / tb, mb[tb - 1] / tb
            ok1 = m1 >= EXTEND_SUPPORT
            ok2 = m2 >= EXTEND_SUPPORT
            ta, b1, d1, m1 = ta[ok1], b1[ok1], d1[ok1], m1[ok1]
            tb, b2, d2, m2 = tb[ok2], b2[ok2], d2[ok2], m2[ok2]
            if len(ta) == 0 or len(tb) == 0:
                continue
            A = a + ta[:, None] * ua                           # (Ia, 2) new corner candidates
            B = b + tb[:, None] * ub
            AA, BB = np.repeat(A, len(B), 0), np.tile(B, (len(A), 1))
            t = np.linspace(0.05, 0.95, 32)[None, :, None]
            pts = AA[:, None] + t * (BB - AA)[:, None]         # (G, 32, 2)
            e = BB - AA
            n = np.stack([-e[:, 1], e[:, 0]], 1) / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-6)
            n *= np.sign(((q.mean(axis=0) - AA) * n).sum(1, keepdims=True) + 1e-9)
            nx = np.broadcast_to(n[:, None, 0], pts.shape[:2]).ravel().astype(np.float32)
            ny = np.broadcast_to(n[:, None, 1], pts.shape[:2]).ravel().astype(np.float32)
            xy = pts.reshape(-1, 2).astype(np.float32)
            mag, lum = _step(feat, xy[:, 0], xy[:, 1], nx, ny)
            strength = np.clip((mag - 0.02) / 0.04, 0, 1).reshape(len(AA), -1)
            b3 = (strength * (lum.reshape(len(AA), -1) > 0)).mean(1)
            d3 = (strength * (lum.reshape(len(AA), -1) <= 0)).mean(1)
            m3 = strength.mean(1)
            B1, D1, M1 = np.repeat(b1, len(B)), np.repeat(d1, len(B)), np.repeat(m1, len(B))
            B2, D2, M2 = np.tile(b2, len(A)), np.tile(d2, len(A)), np.tile(m2, len(A))
            polar = np.maximum(b3, d3) >= EXTEND_SUPPORT
            polar &= np.maximum(B1, D1) >= EXTEND_SUPPORT
            polar &= np.maximum(B2, D2) >= EXTEND_SUPPORT
            polar &= np.maximum.reduce([np.minimum(B1, b3), np.minimum(D1, d3), np.minimum(B2, b3),
                                        np.minimum(D2, d3)]) >= EXTEND_SUPPORT
            # A strip whose outline changes polarity (a coloured band or a shaded fold between the stripes or
            # checks of a cloth, darker than some and brighter than others) is outlined by steps of either
            # sign; it must then be calmer (GROW_CALM_MIXED) to be taken.
            ok = m3 >= EXTEND_SUPPORT
            if not ok.any():
                continue
            # The best outlined strip (its weakest stretch), the farther of equals: past the card's body the
            # neighbours' extensions run over the desk and their shares fall.
            support = np.where(polar, np.minimum.reduce([np.maximum(B1, D1), np.maximum(B2, D2), np.maximum(b3, d3)]),
                               np.minimum.reduce([M1, M2, m3]) - 1)
            moved = np.repeat(ta, len(B)) + np.tile(tb, len(A))
            value = np.where(ok, support + 1e-4 * moved / (la + lb), -2)
            # The strip is one region of paper: mostly calm, its gradient below half FLAT_GRADIENT (paper
            # with print is; the stripes, grain or check the neighbours' extensions may run along are not).
            tried: list[np.ndarray] = []
            for g in np.argsort(-value)[:GROW_TRIES * 8]:
                if value[g] < -1 or len(tried) >= GROW_TRIES:
                    break
                # Near-copies of a strip already tried (a pixel or two apart) tell nothing new.
                ends = np.concatenate([AA[g], BB[g]])
                if any(np.abs(ends - e).max() < GROW_APART for e in tried):
                    continue
                tried.append(ends)
                calm_needed = GROW_CALM if polar[g] else GROW_CALM_MIXED
                new = _with_side(q, s, AA[g], BB[g])
                strip = np.array([a, AA[g], BB[g], b])
                if not (_convex(new) and _convex(strip) and _page_shaped(new)):
                    continue
                # … with its three outer sides differing from the desk well beyond them (a check or stripes
                # that the neighbours' extensions ran along are neither calm nor that different).
                # A curled end's shading under print (right-aligned Arabic lines fill the strip) is seldom calm
                # as a whole, but it is calm along the fold: it changes across it only (GROW_CALM_ALONG).
                calm_enough = _smooth_share(calm, strip) >= calm_needed or (
                    gradient is not None and _calm_along(gradient, strip) >= GROW_CALM_ALONG)
                if calm_enough and _hidden_wide(feat, strip) >= GROW_WIDE:
                    # … and not a piece of the desk: a cloth of vinyl tiles is calm between its thin lines, and
                    # a line of its tiles outlines a strip beyond a page (2026-12-07, tune3 hexagons). The side's
                    # best strip only: a next one is no band either (``_desk_strip``, as in ``_extend``).
                    if not _desk_strip(feat, new, q):
                        q, grown = new, True
                    break
        if not grown:
            break
    return q


def _hidden_wide(feat: np.ndarray, strip: np.ndarray) -> float:
    """The wide check's weakest share over a grown strip's three outer sides (a, A, B, b: the neighbours'
    extensions and the new side), where an object over one extension hides part of it (issue 17, occluder): a
    hand's fingers or a phone over a card's side where its band meets its body. On that side the samples without a
    step whose inside is neither the paper nor the desk seen along the rest of it (HIDDEN_UNLIKE from both, log
    colour) are hidden, and its share is taken over the rest (at least SEEN_SHARE of it), as a blown-out stretch is.
    Only one extension may be so, and the new side never: an object lies over one side of a page."""
    wide = _wide_support(feat, strip[None, :, 0], strip[None, :, 1])[0, :3]
    if wide.min() >= GROW_WIDE or np.sort(wide)[1] < GROW_WIDE or wide[1] < GROW_WIDE:
        return float(wide.min())
    s = int(np.argmin(wide))                        # 0 or 2: the extension the object may lie over
    a, b = strip[s], strip[s + 1]
    e = b - a
    length = max(float(np.hypot(*e)), 1e-6)
    n = np.array([-e[1], e[0]]) / length
    n = n if (strip.mean(0) - a) @ n > 0 else -n
    t = np.linspace(0.1, 0.9, 16)[:, None]
    pts = a + t * e
    depth = min(WIDE_IN, 0.2 * float(np.linalg.norm(strip - np.roll(strip, 1, 0), axis=1).min()))
    h, w = feat.shape[:2]
    xy = np.concatenate([pts + o * n for o in (depth, -WIDE_OUT, -2 * WIDE_OUT)]).astype(np.float32)
    vals = cv2.remap(feat, np.clip(xy[:, 0], 0, w - 1).reshape(-1, 1), np.clip(xy[:, 1], 0, h - 1).reshape(-1, 1),
                     cv2.INTER_LINEAR).reshape(3, len(pts), -1)
    near, far = np.linalg.norm(vals[0] - vals[1], axis=-1), np.linalg.norm(vals[0] - vals[2], axis=-1)
    ok = (near > WIDE_STEP) & (far > WIDE_STEP)
    if ok.sum() < SEEN_SHARE * len(ok):
        return float(wide.min())
    paper, desk = np.median(vals[0][ok], axis=0), np.median(vals[2][ok], axis=0)
    hidden = ~ok & (np.linalg.norm(vals[0] - paper, axis=-1) > HIDDEN_UNLIKE) \
        & (np.linalg.norm(vals[0] - desk, axis=-1) > HIDDEN_UNLIKE)
    # An object lies over one stretch of the side: only the longest run of hidden samples is hidden (on a cloth of two
    # colours the other stripe is neither the paper nor the desk, every few samples: tune:motion/1121 at 1000x750).
    seen = len(ok) - int(_longest_run(hidden[None])[0])
    return float(min(wide[1], wide[2 - s], ok.sum() / max(seen, SEEN_SHARE * len(ok))))


def _quad_mask(shape: tuple[int, ...], quad: np.ndarray) -> np.ndarray:
    """A convex quadrilateral's inside (1, else 0) on an image of ``shape``, its corners drawn to a quarter pixel."""
    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round(quad * 4).astype(np.int32), 1, cv2.LINE_8, shift=2)
    return mask


def _smooth_share(smooth: np.ndarray, quad: np.ndarray) -> float:
    """Share of a convex quadrilateral's inside that a mask (of the working image) covers."""
    mask = _quad_mask(smooth.shape, quad)
    n = _count(mask)
    return _count(smooth & mask) / n if n else 0.0


def _area(q):
    x, y = q[:, 0], q[:, 1]
    return 0.5 * float((x * np.roll(y, -1) - np.roll(x, -1) * y).sum())


def _convex(q):
    e = np.roll(q, -1, axis=0) - q
    cross = e[:, 0] * np.roll(e[:, 1], -1) - e[:, 1] * np.roll(e[:, 0], -1)
    return bool((cross > 0).all() or (cross < 0).all())


# --- refinement --------------------------------------------------------------------------------------


def _refine(image: np.ndarray, quad: np.ndarray, px_per_work_px: float, faint: bool = False) -> np.ndarray:
    """Move each side onto the strongest step near it at full resolution; a curled side becomes a curve.

    Along each side the strongest step towards the page is found within ``reach`` (a couple of working
    pixels, or CURL_REACH of the side for a bowed or curled page) and fitted robustly with a line, or
    a parabola when that fits clearly better (the side is curved). The corners are where neighbouring
    fits meet: the page's physical corners, which for a curled page are not where its straight chords
    would cross."""
    c = quad.mean(axis=0)
    fits = []
    for s in range(4):
        a, b = quad[s], quad[(s + 1) % 4]
        d = b - a
        length = float(np.hypot(*d))
        if length < 8:
            return quad
        d = d / length
        n = np.array([-d[1], d[0]])
        if (c - a) @ n < 0:
            n = -n  # n points into the page
        fits.append(_fit_side(image, a, d, n, length, px_per_work_px, faint))
    out = quad.copy()
    for s in range(4):
        f1, f2 = fits[(s - 1) % 4], fits[s]
        if f1 is None or f2 is None:
            continue
        f1, f2 = _near_corner(f1, end=True), _near_corner(f2, end=False)
        p = quad[s].copy()
        for _ in range(12):  # alternate projections onto the two fits converge to where they cross
            p = _onto(f1, p)
            p = _onto(f2, p)
        limit = 3 * max(f1[4], f2[4])
        if np.all(np.isfinite(p)) and np.hypot(*(p - quad[s])) < limit:
            out[s] = p
    return out


def _onto(fit, p):
    """The point of a side's fit (a, d, n, coefficients of v(u), reach) at the same u as p."""
    a, d, n, coef = fit[:4]
    u = float((p - a) @ d)
    return a + u * d + float(np.polyval(coef, u)) * n


def _fit_side(image, a, d, n, length, ppw, faint=False):
    reach = max(NEAR_REACH * ppw, CURL_REACH * length)  # never less than the rows the line's first fit takes
    step = max(1.0, reach / 16)
    offs = np.arange(-reach, reach + step / 2, step, dtype=np.float32)
    m = int(min(200, max(24, length / (2 * ppw))))
    us = np.linspace(0.04 * length, 0.96 * length, m, dtype=np.float32)
    px = a[0] + us[:, None] * d[0] + offs[None, :] * n[0]
    py = a[1] + us[:, None] * d[1] + offs[None, :] * n[1]
    strip = cv2.remap(image, px.astype(np.float32), py.astype(np.float32), cv2.INTER_LINEAR,
                      borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    strip = np.log(strip + 16.0)
    # Project colour onto the direction of the step (inside minus outside), smooth along the side.
    q = max(1, len(offs) // 4)
    if faint:
        # A page of nearly the desk's colour: its print, not the paper, sets the colour a quarter of the
        # reach inside. The step's direction is taken next to the side found at working size instead.
        near = np.abs(offs) <= 3 * ppw
        inner, outer = near & (offs >= ppw), near & (offs <= -ppw)
        direction = (strip[:, inner].mean(1) - strip[:, outer].mean(1)).mean(0)
    else:
        # Medians across each quarter: a printed line or a stripe at the reach's end does not turn it.
        direction = (np.median(strip[:, -q:], axis=1) - np.median(strip[:, :q], axis=1)).mean(0)
        direction = _near_direction(strip, offs, ppw, direction)
    norm = float(np.linalg.norm(direction))
    if norm < 1e-3:
        return None
    prof = strip @ (direction / norm)
    prof = cv2.GaussianBlur(prof, (0, 0), sigmaX=max(0.5, (1.0 + 0.25 * ppw) / step), sigmaY=1.5)
    grad = np.diff(prof, axis=1)
    # The page's edge is its outermost step: a printed frame or a rule just inside it can be a stronger
    # one (ink on paper), and the search reaches that far for curled sides. So per row the outermost local
    # maximum that is a good part of the row's strongest is taken (offsets run from outside to inside).
    # The inner flank of a printed line (ink, then paper) steps the page's way too, and strongly: a rise
    # just after a fall of half its size (within RIDGE_SAMPLES further out) is a line's flank, not an edge.
    # When a row has any other rise, flanks neither count as the row's strongest nor are taken.
    fall = np.full_like(grad, np.inf)
    for k in range(1, RIDGE_SAMPLES + 1):
        fall[:, k:] = np.minimum(fall[:, k:], grad[:, :-k])
    flank = fall < -0.5 * grad
    rise = np.where(flank, 0.0, grad)
    strongest = np.where((rise > 0).any(axis=1, keepdims=True), rise, grad).max(axis=1, keepdims=True)
    if faint:
        # A faint page (or one full of print) was found by the paper/desk step next to its side: that step, not
        # the print's much stronger one a little inside it (framed/1048: a pale rim 18 px wide round dark print),
        # is what "a good part of the row's strongest" is measured against, so the side does not move across its
        # own rim onto the print. A row with no rise near the side keeps the whole reach's strongest (curled).
        near = np.abs(offs[1:]) <= NEAR_REACH * ppw
        near_rise = np.where(near[None, :], rise, 0.0).max(axis=1, keepdims=True)
        strongest = np.where(near_rise > 0, near_rise, strongest)
    peak = (grad[:, 1:-1] >= grad[:, :-2]) & (grad[:, 1:-1] >= grad[:, 2:])
    peak &= grad[:, 1:-1] >= OUTERMOST * strongest
    peak &= (grad[:, 1:-1] > 0) & ~flank[:, 1:-1]
    best = np.where(peak.any(axis=1), peak.argmax(axis=1) + 1, np.argmax(rise, axis=1))
    ok = (best > 0) & (best < grad.shape[1] - 1)
    rows = np.nonzero(ok)[0]
    if len(rows) < 8:
        return None
    g1 = grad[rows, best[rows]]
    # The edge is the middle of its gradient lobe (the run around the peak above half of it): a sharp or a
    # defocused edge peaks there, a motion-blurred one is a ramp whose gradient is a plateau.
    g = grad[rows]
    col = np.arange(g.shape[1])[None, :]
    low = g < LOBE * g1[:, None]
    peak_at = best[rows][:, None]
    left = np.where(low & (col < peak_at), col, -1).max(axis=1) + 1
    right = np.where(low & (col > peak_at), col, g.shape[1]).min(axis=1) - 1
    lobe = (col >= left[:, None]) & (col <= right[:, None])
    mass = np.where(lobe, g, 0.0)
    centre = (mass * col).sum(axis=1) / np.maximum(mass.sum(axis=1), 1e-9)
    v = offs[0] + (centre + 0.5) * step
    u = us[rows].astype(np.float64)
    weight = np.clip(g1, 1e-6, None).astype(np.float64)
    coef, scale = _line_or_curve(u, v, weight, step, length, ppw)
    if coef is None:
        return None
    return a, d, n, coef, reach, (u, v, weight, step, length, ppw, scale)


def _near_direction(strip: np.ndarray, offs: np.ndarray, ppw: float, direction: np.ndarray) -> np.ndarray:
    """The step's colour direction for ``_fit_side``: ``direction`` (inside quarter minus outside quarter), or the
    step next to the side found (within 3 working px, as for a faint page) where that steps the other way from it
    (2026-12-07, finder-motion2). A dark frame printed a few mm inside a white receipt on a pink desk sets the inside
    quarter's colour: white against pink projects negatively on navy against pink, so the paper's edge was no rise
    and the frame's outer flank was taken (tune3:occluder/1003). Only a step of NEAR_STEP at least (not noise), and only
    where the inside quarter is ink: darker than the paper next to the side in every channel by NEAR_INK (a side found a
    little outside the page has the desk next to it and the paper, brighter, in the quarter: tune:tablecloth/1003)."""
    near = np.abs(offs) <= 3 * ppw
    inner, outer = near & (offs >= ppw), near & (offs <= -ppw)
    if not inner.any() or not outer.any():
        return direction
    here = (strip[:, inner].mean(1) - strip[:, outer].mean(1)).mean(0)
    if float(here @ direction) >= 0 or float(np.linalg.norm(here)) < NEAR_STEP:
        return direction
    q = max(1, len(offs) // 4)
    ink = np.median(strip[:, -q:], axis=1).mean(0) - strip[:, inner].mean(1).mean(0)
    return here if (ink <= -NEAR_INK).all() else direction


def _line_or_curve(u, v, weight, step, length, ppw):
    """A line, or a parabola where that fits clearly better (the side bends)."""
    line, line_scale = _robust_poly(u, v, weight, 1, step, NEAR_REACH * ppw)
    if line is None:
        return None, 0.0
    curve, curve_scale = _robust_poly(u, v, weight, 2, step)
    if curve is not None:
        bulge = abs(curve[0]) * length * length / 4  # how far the parabola strays from its chord, px
        if bulge > max(1.0, 0.5 * ppw) and curve_scale < 0.8 * line_scale:
            return curve, curve_scale
    return line, line_scale


def _near_corner(fit, end: bool):
    """The side's fit near one of its corners. A side that one line or parabola describes keeps that fit;
    a wavy or unevenly curled side is fitted again on its NEAR_CORNER share next to the corner, so the
    corner is where the sides arrive at it, whatever they do in between."""
    a, d, n, coef, reach, (u, v, weight, step, length, ppw, scale) = fit
    if scale <= max(1.0, 0.3 * ppw):
        return fit
    near = u >= (1 - NEAR_CORNER) * length if end else u <= NEAR_CORNER * length
    if near.sum() < 8:
        return fit
    local, _ = _line_or_curve(u[near], v[near], weight[near], step, NEAR_CORNER * length, ppw)
    if local is None:
        return fit
    return a, d, n, local, reach, fit[5]


def _robust_poly(u, v, weight, degree, step, near=np.inf):
    """Weighted polynomial v(u) with outliers (text, texture, a pen) cut at 2.5 robust sigmas. The first fit
    takes only the rows within ``near`` of the side found at working size (when there are enough): text along
    the side or a stripe beside it, found on other rows within the reach, does not pull it off at the start."""
    w = weight * (np.abs(v) <= near)
    if (w > 0).sum() < max(degree + 4, 0.5 * len(v)):
        w = weight.copy()
    coef, scale = None, 0.0
    for _ in range(5):
        if (w > 0).sum() < degree + 4:
            return None, 0.0
        coef = np.polyfit(u, v, degree, w=np.sqrt(w))
        r = v - np.polyval(coef, u)
        scale = max(1.4826 * float(np.median(np.abs(r[w > 0]))), 0.3 * step)
        w = weight * (np.abs(r) < 2.5 * scale)
    return coef, scale


def _near_share(values: np.ndarray, palette: np.ndarray, palette_sq: np.ndarray) -> float:
    """The share of ``values`` (at most 400 of them sampled) within CLOTH_NEAR of a colour of ``palette`` (its squared
    norms ``palette_sq``; distances by a product, not a broadcast difference)."""
    colours = values[:: -(-len(values) // 400)].reshape(-1, palette.shape[1])
    near = ((colours * colours).sum(1)[:, None] + palette_sq[None] - 2 * colours @ palette.T).min(1)
    return float((near < CLOTH_NEAR ** 2).mean())


def _desk_wedge(small: np.ndarray, flat: np.ndarray | None, quad: np.ndarray, deep: bool = False) -> np.ndarray | None:
    """The answer with a wedge of grained desk cut off one side (2026-12-07, branch finder-t2big), or None. On a
    planked desk a seam runs beside a card's side that steps only a little against the wood (a white card on maple):
    the seam is the stronger, straighter line, and the answer takes the wood between them. Each side is tried moved
    in, both its ends along the neighbours up to WEDGE_REACH of their length; the new side must be a consistent
    step (EXTEND_SUPPORT, one way) and the strip cut off the desk: as grained as the desk around the answer (its
    median fine texture within WEDGE_GRAIN of the desk's, ``_grain``; paper is smooth, a card's body of the wood's
    colour too) and of its colours (WEDGE_DESK of its pixels within CLOTH_NEAR of the desk's around the answer). Of
    those, the best-outlined new side. Not where the desk is no grainier than the paper (a plain desk) or its palette
    is wide (WEDGE_SPREAD: a printed cloth, whose colours and blends match any strip). For an answer that is
    asked about, and a confident one with the desk's colour just inside a side (``_desk_inside``; then asked)."""
    if flat is None:
        return None
    h, w = flat.shape[:2]
    q = order_corners(quad).astype(np.float64)
    grain = _grain(small, flat)
    inside = _quad_mask((h, w), q)
    narrow = float(np.linalg.norm(q - np.roll(q, 1, 0), axis=1).min())
    dist = cv2.distanceTransform(1 - inside, cv2.DIST_L2, 3)
    ring = (dist >= 4) & (dist <= max(8.0, GRAIN_RING * narrow)) & (inside == 0)
    if ring.sum() < 50:
        return None
    desk_grain = float(np.median(grain[ring]))
    # the desk no grainier than the smooth part of the paper (its lower quartile; a plain desk): grain tells nothing
    paper = cv2.erode(inside, np.ones((7, 7), np.uint8)) > 0
    if not paper.any():
        return None
    plain = desk_grain < float(np.percentile(grain[paper], 25)) + WEDGE_PAPER
    # … except for a deep cut (asked answers), only beyond a side whose neighbours step beside the card, not further on
    blank = _blank_ends(flat, q) if plain and deep else [not plain] * 4
    if not any(blank):
        return None
    desk = flat[ring][:: -(-int(ring.sum()) // 800)].reshape(-1, flat.shape[2] if flat.ndim == 3 else 1)
    desk_sq = (desk * desk).sum(1)
    # … of a narrow palette (a wood's one hue, its tones): a printed cloth's colours, and the blends between them, span
    # so much that any strip's match some (a defocused leaf print's grey-pink beside a printed frame)
    off_median = np.linalg.norm(desk - np.median(desk, axis=0), axis=1)
    spread = float(np.percentile(off_median, 90))
    if spread > WEDGE_SPREAD:
        return None
    # the desk's own colours: its 90 % nearest the median (a sheet or a hand in the ring is not the desk)
    own = desk[off_median <= spread]
    own_sq = (own * own).sum(1)
    if plain and _desk_share(flat, q, own) < BLOCK_SHARE:
        return None
    best, best_support = None, -1.0
    t = np.linspace(0.05, 0.95, 32)
    core = cv2.erode(inside, np.ones((5, 5), np.uint8)) > 0  # the answer off its edges' blur
    outer = cv2.distanceTransform(inside, cv2.DIST_L2, 3) <= WEDGE_MIN  # the answer's edge, WEDGE_MIN px in
    for s in range(4):
        if not blank[s]:  # on a plain desk only a side whose neighbours do not step near it (``_blank_ends``)
            continue
        a, b = q[s], q[(s + 1) % 4]
        ua, ub = q[s - 1] - a, q[(s + 2) % 4] - b          # inward along the neighbours
        la, lb = float(np.hypot(*ua)), float(np.hypot(*ub))
        ua, ub = ua / max(la, 1e-6), ub / max(lb, 1e-6)
        reach = BLOCK_REACH if plain else WEDGE_REACH
        steps = BLOCK_STEPS if plain else 30
        ta = np.arange(0.0, reach * la, max(1.0, reach * la / steps))
        tb = np.arange(0.0, reach * lb, max(1.0, reach * lb / steps))
        A, B = a + ta[:, None] * ua, b + tb[:, None] * ub
        AA, BB = np.repeat(A, len(B), 0), np.tile(B, (len(A), 1))
        wide = np.repeat(ta, len(B)) + np.tile(tb, len(A))
        keep = wide >= 2 * WEDGE_MIN                        # the strip at least WEDGE_MIN px wide on average
        AA, BB, wide = AA[keep], BB[keep], wide[keep]
        if not len(AA):
            continue
        pts = AA[:, None] + t[None, :, None] * (BB - AA)[:, None]
        e = BB - AA
        n = np.stack([-e[:, 1], e[:, 0]], 1) / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-6)
        # inward: towards the answer's middle, or in a deep cut (plain) towards the side's far neighbour's end
        inward = (q[(s + 2) % 4] + q[s - 1]) / 2 - (a + b) / 2 if plain else q.mean(axis=0) - AA
        n *= np.sign((inward * n).sum(-1, keepdims=True) + 1e-9)
        nx = np.repeat(n[:, 0], len(t)).astype(np.float32)
        ny = np.repeat(n[:, 1], len(t)).astype(np.float32)
        xy = pts.reshape(-1, 2).astype(np.float32)
        mag, lum = _step(flat, xy[:, 0], xy[:, 1], nx, ny)
        strength = np.clip((mag - 0.02) / 0.04, 0, 1).reshape(len(AA), -1)
        up = (strength * (lum.reshape(len(AA), -1) > 0)).mean(1)
        down = (strength * (lum.reshape(len(AA), -1) <= 0)).mean(1)
        support = np.maximum(up, down)
        # … the strongest step among the best outlined (the shares saturate over a few px either side of an edge)
        value = support + WEDGE_TIE * np.minimum(mag.reshape(len(AA), -1), 0.2).mean(1)
        if plain:  # the deepest cut with the desk beyond the new side and something else inside it (``_desk_edge``)
            value = np.where(_desk_edge(flat, pts, n, own, support), wide / (la + lb), -1.0)
        tried: list[np.ndarray] = []
        tries = BLOCK_TRIES if plain else WEDGE_TRIES
        for g in np.argsort(-value)[:tries * 8]:
            if value[g] <= best_support or len(tried) >= tries:
                break
            if support[g] < EXTEND_SUPPORT:
                continue
            ends = np.concatenate([AA[g], BB[g]])
            if any(np.abs(ends - e).max() < GROW_APART for e in tried):
                continue  # a near-copy of a side tried (a px or two apart) tells nothing new
            tried.append(ends)
            new = _with_side(q, s, AA[g], BB[g])
            if not (_convex(new) and _page_shaped(new)):
                continue
            strip = core & ~(cv2.dilate(_quad_mask((h, w), new), np.ones((5, 5), np.uint8)) > 0)
            if strip.sum() < 20 or abs(float(np.median(grain[strip])) - desk_grain) > WEDGE_GRAIN:
                continue
            if _near_share(flat[strip], desk, desk_sq) < WEDGE_DESK:
                continue
            # … along the old side too: a band of the wood's tone printed inside a card's white margin is no wedge
            # (review of finder-t2big: the margin is paper between the band and the desk)
            rim = strip & outer
            if rim.sum() >= 20 and _near_share(flat[rim], own, own_sq) < WEDGE_DESK:
                continue
            if plain and not _desk_along_cut(flat, strip, new, own, own_sq):
                continue
            # … and the neighbours' parts cut off step less than BLOCK_BLANK of their parts kept (a page's sides step
            # alike all along, the sides of a card with a block of desk taken in only along the card)
            if plain and not all(_step_size(flat, end, cut, nn) < BLOCK_BLANK * _step_size(flat, cut, far, nn)
                                 for end, cut, far, nn in ((q[s], AA[g], q[s - 1], _inward(q, (s - 1) % 4)[3]),
                                                           (b, BB[g], q[(s + 2) % 4], _inward(q, (s + 1) % 4)[3]))):
                continue
            # … and what is kept no block of the desk's colour itself (a white page on a white desk is all "desk")
            if plain and _desk_share(flat, order_corners(new), own) >= BLOCK_SHARE:
                continue
            best, best_support = new, float(value[g])
            break
    return best


def _step_size(flat: np.ndarray, p0: np.ndarray, p1: np.ndarray, n: np.ndarray) -> float:
    """The median step (``_step``'s magnitude, normal ``n``) across the segment ``p0``-``p1`` (its middle 0.1-0.9):
    how strong an edge it is (occl8)."""
    p = (p0 + np.linspace(0.1, 0.9, 24)[:, None] * (p1 - p0)).astype(np.float32)
    mag, _ = _step(flat, p[:, 0], p[:, 1], np.full(len(p), n[0], np.float32), np.full(len(p), n[1], np.float32))
    return float(np.median(mag))


def _blank_ends(flat: np.ndarray, q: np.ndarray) -> list[bool]:
    """Per side of the ordered answer ``q``: whether both its neighbours are a clear edge (a step of BLOCK_EDGE at
    least, ``_step_size``) along their quarter farthest from it and step less than BLOCK_BLANK of that along their
    half nearest it. An answer that took a block of plain desk in beyond a card's side (the card's sides carried on
    past its corners to a faint line) has neighbours that barely step beside the block (tune3 occluder/1202: 0.01-0.06
    against the card's 1.2-2.5); a page of the desk's colour steps alike all along its sides, and a white page on a
    white desk steps faintly everywhere (occl8: the gate before a deep cut; without it a lamp's reflection's rim at
    12 MP, glare/1000, was kept and the page cut off)."""
    sides = [_inward(q, k) for k in range(4)]
    out = []
    for s in range(4):
        (pa, qa, _, na), (pb, qb, _, nb) = sides[(s - 1) % 4], sides[(s + 1) % 4]
        # side s - 1 runs into corner s, side s + 1 out of corner s + 1
        far = min(_step_size(flat, pa, pa + (qa - pa) / 4, na), _step_size(flat, qb, qb + (pb - qb) / 4, nb))
        near = max(_step_size(flat, qa, (pa + qa) / 2, na), _step_size(flat, pb, (pb + qb) / 2, nb))
        out.append(far >= BLOCK_EDGE and near < BLOCK_BLANK * far)
    return out


def _desk_share(flat: np.ndarray, q: np.ndarray, own: np.ndarray) -> float:
    """The share of the answer (ordered corners ``q``; a 20 x 20 grid of points spread over it bilinearly) of the
    desk's own colours (within CLOTH_NEAR of ``own``): a page's answer has little of it, an answer that took a block
    of desk in beyond a side has much; the cheap gate before a deep cut (occl7)."""
    u = np.linspace(0.05, 0.95, 20)
    uu, vv = (g.ravel()[:, None] for g in np.meshgrid(u, u))
    pts = (1 - vv) * ((1 - uu) * q[0] + uu * q[1]) + vv * ((1 - uu) * q[3] + uu * q[2])
    return float(_desk_near(_sample(flat, pts), own).mean())


def _desk_near(colours: np.ndarray, own: np.ndarray) -> np.ndarray:
    """Which ``colours`` (N, C) lie within CLOTH_NEAR of one of 64 of the desk's own colours ``own`` (a difference
    broadcast, not a product: a matrix product hands a few hundred rows to the threaded BLAS, slow on a busy box)."""
    palette = own[:: -(-len(own) // 64)].astype(np.float32)
    near = np.zeros(len(colours), bool)
    for c in palette:
        near |= ((colours - c) ** 2).sum(1) < CLOTH_NEAR ** 2
    return near


def _desk_edge(flat: np.ndarray, pts: np.ndarray, n: np.ndarray, own: np.ndarray, support: np.ndarray) -> np.ndarray:
    """Which lines (points (N, T, 2), inward normals (N, 2)) are the edge between the desk and what lies on it: a
    consistent step (EXTEND_SUPPORT), the desk's own colour OBJECT_IN px beyond (within CLOTH_NEAR of ``own``) and not
    OBJECT_IN px inside, each along BLOCK_NEAR of them. Where an object lies over a page's edge, the desk is beyond
    it and the object inside; where a page's print or band lies across the answer, no desk is beyond (occl7)."""
    ok = support >= EXTEND_SUPPORT
    if not ok.any():
        return ok
    shares = []
    for sign in (-1.0, 1.0):
        at = (pts[ok] + sign * OBJECT_IN * n[ok][:, None]).reshape(-1, 2)
        colours = np.concatenate([_sample(flat, at[i:i + 30000]) for i in range(0, len(at), 30000)])
        shares.append(_desk_near(colours, own).reshape(int(ok.sum()), -1).mean(1))
    ok[ok] = (shares[0] >= BLOCK_NEAR) & (1 - shares[1] >= BLOCK_NEAR)
    return ok


def _desk_along_cut(flat: np.ndarray, strip: np.ndarray, new: np.ndarray, own: np.ndarray, own_sq: np.ndarray) -> bool:
    """Whether the strip a deep cut takes off is the desk's own colour right beside the new side too (its WEDGE_MIN
    px next to it, BLOCK_NEAR of them; an object over the page's edge may lie along the rest): a large block of plain
    desk cut off an answer is mostly desk even where the cut runs below a card's colour band, which is the card's
    (occl7: tune3 occluder/1202, a blue band)."""
    h, w = flat.shape[:2]
    inside = _quad_mask((h, w), order_corners(new))
    near = strip & (cv2.distanceTransform(1 - inside, cv2.DIST_L2, 3) <= WEDGE_MIN)
    return near.sum() < 20 or _near_share(flat[near], own, own_sq) >= BLOCK_NEAR


def _cut_goes_on(flat: np.ndarray, quad: np.ndarray, cut: np.ndarray) -> bool:
    """Whether the side ``_desk_wedge`` cut off (the answer's side farthest from its place in ``cut``) goes on as a
    step beyond one of its corners, along CUT_REACH of its length (CUT_CARRY of the points' strength, in the photo):
    a plank's seam does, a page's edge (a band of wood printed at its edge) ends at its corners. Unmeasurable (both
    ends out of the photo): taken (review of finder-occl5)."""
    q, c = order_corners(quad), order_corners(cut)
    # the side cut off: the one the cut's corners left farthest from
    sides = [_inward(q, k) for k in range(4)]
    return _side_goes_on(flat, q, int(np.argmax([max(abs(float((c[j] - a) @ n)), abs(float((c[(j + 1) % 4] - a) @ n)))
                                                 for j, (a, _, _, n) in enumerate(sides)])))


def _side_goes_on(flat: np.ndarray, q: np.ndarray, s: int, one_way: bool = False) -> bool:
    """Whether side ``s`` of the ordered quadrilateral ``q`` goes on as a step beyond one of its corners, along
    CUT_REACH of its length (CUT_CARRY of the points' strength, in the photo; ``one_way``: CLOTH_CARRY of the steps
    one way, as a stripe's edge runs on, not a cloth's print crossing the line both ways); unmeasurable: taken
    (``_cut_goes_on``, ``_cloth_inside``)."""
    h, w = flat.shape[:2]
    a, b, length, n = _inward(q, s)
    d = (b - a) / max(length, 1e-9)
    measured = False
    for end, sign in ((a, -1.0), (b, 1.0)):
        p = end + sign * np.linspace(4.0, max(8.0, CUT_REACH * length), 16)[:, None] * d
        ok = (p[:, 0] >= 3) & (p[:, 0] < w - 3) & (p[:, 1] >= 3) & (p[:, 1] < h - 3)
        if ok.sum() < 4:
            continue
        measured = True
        p = p[ok].astype(np.float32)
        mag, lum = _step(flat, p[:, 0], p[:, 1], np.full(len(p), n[0], np.float32), np.full(len(p), n[1], np.float32))
        strength = np.clip((mag - 0.02) / 0.04, 0, 1)
        if one_way:  # the way more of it steps
            strength = max(strength * (lum > 0), strength * (lum <= 0), key=np.sum)
        if float(strength.mean()) >= (CLOTH_CARRY if one_way else CUT_CARRY):
            return True
    return not measured


def _desk_inside(flat: np.ndarray, quad: np.ndarray) -> bool:
    """Whether a side of the answer has the desk's colour just inside it (OBJECT_IN px in, the texture-free view
    ``flat``) along DESK_INSIDE of it at least: nearer the desk's (the median just outside all round) than the
    paper's (the median just inside all round). A wedge of desk taken in beyond a side (a plank's seam beside a
    card's side) has; the cheap gate before ``_desk_wedge`` on a confident answer (finder-occl5)."""
    return bool((_just_inside(flat, quad)[4].mean(1) >= DESK_INSIDE).any())


def _just_inside(flat: np.ndarray, quad: np.ndarray):
    """What ``_desk_inside`` and ``_cloth_inside`` look at: the answer's sides (``_inward``, of the ordered quad), the
    ring's fractions and its colours beyond the sides (``_ring_colours``), and per side the colours OBJECT_IN px
    inside it (4, T, C) and whether each is nearer the desk's median than the paper's (4, T)."""
    q = order_corners(quad)
    sides = [_inward(q, k) for k in range(4)]
    t, beyond, inside, desk = _ring_colours(flat, sides)
    paper = np.median(inside, axis=0)
    ring = np.stack([a + t[:, None] * (b - a) for a, b, _, _ in sides])
    norms = np.stack([n for _, _, _, n in sides])[:, None]
    near = _sample(flat, (ring + OBJECT_IN * norms).reshape(-1, 2)).reshape(4, len(t), -1)
    return sides, t, beyond, near, _cnorm(near - desk) < _cnorm(near - paper)


def _cloth_inside(flat: np.ndarray, quad: np.ndarray) -> bool:
    """Whether the desk around the answer is a printed cloth (its colours beyond the sides spread more than
    WEDGE_SPREAD, where ``_desk_wedge`` cuts nothing) and a side has, OBJECT_IN px inside it, the desk's colour (nearer
    the desk's median than the paper's) along DESK_INSIDE of it and the cloth's print colours (within CLOTH_NEAR of
    those found beyond the sides) along WEDGE_DESK of it: a stripe beyond the page's side taken in (2026-12-07,
    finder-occl6). Only after ``_desk_inside`` passed on a confident answer; it is then asked, not cut."""
    sides, t, beyond, near, desky = _just_inside(flat, quad)
    # … the cloth's colours where it is in the photo (a side at the border samples the page's edge repeated beyond it)
    h, w = flat.shape[:2]
    out = np.stack([a + t[:, None] * (b - a) - 2 * OBJECT_IN * n for a, b, _, n in sides]).reshape(-1, 2)
    seen = (out[:, 0] >= 2) & (out[:, 0] <= w - 3) & (out[:, 1] >= 2) & (out[:, 1] <= h - 3)
    cloth = beyond.reshape(-1, beyond.shape[-1])[seen]
    if len(cloth) < len(t) or float(np.percentile(_cnorm(cloth - np.median(cloth, axis=0)), 90)) <= WEDGE_SPREAD:
        return False  # a narrow palette (wood, a plain desk): ``_desk_wedge``'s ground
    cloth_sq = (cloth * cloth).sum(1)
    q = order_corners(quad)
    for k, looked in enumerate(seen.reshape(4, -1)):
        if looked.mean() < DESK_INSIDE:
            continue  # the desk beyond this side mostly out of the photo: a dark strip there may be the page's shade
        # … and the side goes on as a step past a corner: a stripe's edge runs on across the cloth, a page's edge
        # beside a band of the cloth's colour printed on it (a letterhead's bar) ends at its corners (review of occl6)
        if desky[k].mean() >= DESK_INSIDE and _near_share(near[k], cloth, cloth_sq) >= WEDGE_DESK and \
                _side_goes_on(flat, q, k, one_way=True):
            return True
    return False


def _object_sides(flat: np.ndarray, paper: np.ndarray, desk: np.ndarray, pts: np.ndarray, nn: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Along candidate sides (points ``pts`` (G, T, 2), inward normals ``nn``): per sample, whether the inside
    (OBJECT_IN px in) is one of the ``paper`` colours (K, 3; the first this side's) and the outside (OBJECT_IN and
    twice as far out) the desk (nearer each than half their distance), whether an object lies over it (inside and
    outside alike, and neither the paper nor the desk: HIDDEN_UNLIKE), and whether anything but paper and desk is on
    either side (G, T each)."""
    h, w = flat.shape[:2]
    g, t = pts.shape[:2]
    xy = np.concatenate([(pts + o * nn).reshape(-1, 2) for o in (OBJECT_IN, -OBJECT_IN, -2 * OBJECT_IN)])
    xy = np.clip(xy, 0, [w - 1, h - 1]).astype(np.float32)
    cols = 1024
    pad = (-len(xy)) % cols
    xy = np.pad(xy, ((0, pad), (0, 0)), mode="edge")
    vals = cv2.remap(flat, xy[:, 0].reshape(-1, cols), xy[:, 1].reshape(-1, cols), cv2.INTER_LINEAR)
    vals = vals.reshape(-1, flat.shape[2])[:len(xy) - pad].reshape(3, g, t, -1)
    half = 0.5 * float(np.linalg.norm(paper[0] - desk))
    to_paper = [_fold(np.minimum, np.stack([_cnorm(v - c) for c in paper], -1)) for v in vals]
    to_desk = [_cnorm(v - desk) for v in vals]
    edge = (to_paper[0] < half) & (to_desk[1] < half) & (to_desk[2] < half)
    unlike = [(to_paper[k] > HIDDEN_UNLIKE) & (to_desk[k] > HIDDEN_UNLIKE) for k in range(2)]
    hidden = unlike[0] & unlike[1] & (_cnorm(vals[0] - vals[1]) < HIDDEN_UNLIKE)
    return edge & ~hidden, hidden, unlike[0] | unlike[1]


def _longest_run(mask: np.ndarray, where: bool = False):
    """The longest run of True along the last axis, per row (and, ``where``, the index just past its end)."""
    run = np.zeros(mask.shape[:-1], int)
    best, end = run.copy(), run.copy()
    for k in range(mask.shape[-1]):
        run = np.where(mask[..., k], run + 1, 0)
        end = np.where(run > best, k + 1, end)
        best = np.maximum(best, run)
    return (best, end) if where else best


def _under_object(small: np.ndarray, quad: np.ndarray, flat: np.ndarray | None = None) -> np.ndarray:
    """Move a side taken along an object over the page's edge onto the edge (issue 17, occluder, 2026-12-07). A
    phone or a hand over a side hides a stretch of it, and the object's own straight edge, long and strong, is
    taken for the side: tilted across the page (a wedge of paper left out) or at the object's far edge (a wedge of
    desk and the object taken in). Only where a side has a stretch (OBJECT_RUN of it) with neither paper nor desk
    on one side of it: lines around it (both ends moved along its normal, OBJECT_REACH of its neighbours either way)
    are scored by their share of paper inside and desk outside (the texture-free view; the colours are the medians
    just inside and outside the answer), taken over what is not hidden: the longest stretch with an object on both
    sides (the same colour, neither paper nor desk), at least OBJECT_RUN and at most 1 - SEEN_SHARE of it. The best
    replaces the side when at least OBJECT_SUPPORT of it so and OBJECT_BETTER more than the side, and the stretch's
    ends are an object's edge: a step along the line (``_object_ends`` at least OBJECT_CRISP at each end, inside or
    outside), not a soft shadow's ramp."""
    q = order_corners(quad)
    if not _convex(q):
        return quad
    t = np.linspace(0.03, 0.97, 48)
    best = papers = None
    for s in range(4):
        a, b, length, n = _inward(q, s)
        if length < 2 * MIN_SEGMENT:
            continue
        if papers is None:
            flat = _texture_free(small) if flat is None else flat   # the search's (blurred 1 px) where it has it
            sides = [_inward(q, k) for k in range(4)]
            ring = np.stack([ka + t[:, None] * (kb - ka) for ka, kb, _, _ in sides])   # (4, T, 2)
            norms = np.stack([kn for _, _, _, kn in sides])[:, None]
            h, w = flat.shape[:2]
            inner = np.clip(ring + 2 * OBJECT_IN * norms, 0, [w - 1, h - 1]).reshape(-1, 2).astype(np.float32)
            outer = np.clip(ring - 2 * OBJECT_IN * norms, 0, [w - 1, h - 1]).reshape(-1, 2).astype(np.float32)
            papers = np.median(cv2.remap(flat, inner[:, :1], inner[:, 1:], cv2.INTER_LINEAR).reshape(4, -1, 3), axis=1)
            desk = np.median(cv2.remap(flat, outer[:, :1], outer[:, 1:], cv2.INTER_LINEAR).reshape(-1, 3), axis=0)
        # this side's paper first: a card's band or photo block lies along one side only, so each of the four
        # colours just inside the answer counts as paper
        paper = np.roll(papers, -s, axis=0)
        if np.linalg.norm(paper[0] - desk) < 2 * HIDDEN_UNLIKE:
            continue
        # … but a colour just inside another side that is the desk's (a pale card on a pale desk, only its band and
        # photo block standing out) is no evidence of paper: with it the desk itself counted as paper inside any line
        # out on the desk (tune3 occluder/1235 720p, review-occl2)
        paper = paper[np.r_[True, np.linalg.norm(paper[1:] - desk, axis=1) >= 2 * HIDDEN_UNLIKE]]
        pts = (a + t[:, None] * (b - a))[None]
        edge0, _, unlike0 = _object_sides(flat, paper, desk, pts, n[None, None])
        if edge0.mean() > 1 - OBJECT_BETTER or _longest_run(unlike0)[0] < OBJECT_RUN * len(t):
            continue                     # outlined as well as any line can be, or nothing but paper and desk along it
        reach = OBJECT_REACH * min(_inward(q, s - 1)[2], _inward(q, (s + 1) % 4)[2])
        grid = np.linspace(-reach, reach, 15)
        oa, ob = (v.ravel() for v in np.meshgrid(grid, grid, indexing="ij"))
        pa, pb, support, r0, r1 = _object_lines(small, paper, desk, a, b, n, t, oa, ob, reach)
        if pa is None:
            continue
        g = int(np.argmax(support))                  # then finer about the best (a grid step either way)
        fine = np.linspace(-1, 1, 9) * (grid[1] - grid[0])
        fa, fb = (v.ravel() for v in np.meshgrid(oa[g] + fine, ob[g] + fine, indexing="ij"))
        fine = _object_lines(small, paper, desk, a, b, n, t, fa, fb, reach)
        if fine[0] is not None and fine[2].max() >= support[g]:
            pa, pb, support, r0, r1 = fine
            g = int(np.argmax(support))
        if support[g] < OBJECT_SUPPORT:
            continue
        # The side as it is, over the same stretch as the new one's (what the object hides there hides it for both: a
        # soft shadow's dark end over a page's side is as unlike paper and desk; tune2 soft_shadow/1003)
        rest = np.ones(len(t), bool)
        rest[r0[g]:r1[g]] = False
        gain = support[g] - edge0[0][rest].mean()
        if support[g] < OBJECT_SUPPORT or gain < OBJECT_BETTER or (best is not None and gain <= best[0]):
            continue
        # An object's own edge crosses the line at each end of what it hides: the colour steps there along the line,
        # on one side of it at least (tune soft_shadow/1005, real xmrzapp/example1.jpg, jscanify/test6.JPG: ramps)
        d = pb[g] - pa[g]
        nn = np.array([-d[1], d[0]]) / max(float(np.linalg.norm(d)), 1e-6)
        nn *= np.sign(float(nn @ n))
        dt = 0.5 * (t[1] - t[0])
        crisp = _object_ends(small, pa[g], pb[g], nn, t[r0[g]] - dt, t[r1[g] - 1] + dt)
        if crisp.max(1).min() < OBJECT_CRISP:
            continue    # an end of the stretch a ramp: a soft shadow's or a shaded desk's, not an object's edge
        new = q.copy()
        p0 = _meet_segments((q[s - 1], q[s]), (pa[g], pb[g]))
        p1 = _meet_segments((pa[g], pb[g]), (q[(s + 1) % 4], q[(s + 2) % 4]))
        if p0 is None or p1 is None:
            continue
        new[s], new[(s + 1) % 4] = p0, p1
        h, w = small.shape[:2]
        if _convex(new) and _page_shaped(new) and abs(_area(new)) >= MIN_AREA * w * h:
            best = (gain, new)
    return quad if best is None else best[1]


def _band_beside_object(flat: np.ndarray, quad: np.ndarray) -> bool:
    """Whether an answer may have left a card's band out where an object lies over the card's side (issue 17,
    occluder, finder-occl3): one side has neither paper nor desk outside it nearly all along (STRIP_OUTSIDE; a strip
    of another colour beyond it, in the texture-free view ``flat``, its hue not the desk's: HIDDEN_UNLIKE once a shift
    alike in all channels, a shadow's, is taken away) and a side next to it is outlined (paper inside,
    desk outside: ``_object_sides``) along less than OBJECT_ALONG of it, an object's stretch (OBJECT_RUN) beside
    it. A phone over a card's side just below its band hides where the band meets the body: the side runs along the
    phone's edge, its extension into the band's inside, and the band is not grown (tune occluder/1169 at 1080p: IoU
    0.78 at 0.98). Then the corner between the two sides is a guess: asked."""
    q = order_corners(quad)
    if not _convex(q):
        return False
    sides = [_inward(q, k) for k in range(4)]
    if min(length for _, _, length, _ in sides) < 2 * MIN_SEGMENT:
        return False
    h, w = flat.shape[:2]
    t, beyond, papers, desk = _ring_colours(flat, sides)
    # A strip of its own colour, not the desk shaded: a soft shadow along a side is the desk's log colour shifted alike
    # in every channel (tune soft_shadow/1002, /1004 at 1080p: 0.03-0.05 off once that shift is taken away; a band 0.43)
    shift = np.median(beyond, axis=1) - desk
    hue = np.linalg.norm(shift - shift.mean(1, keepdims=True), axis=1)
    outlined, unlike = np.zeros(4), np.zeros(4)
    for s, (a, b, _, n) in enumerate(sides):
        paper = np.roll(papers, -s, axis=0)     # as in ``_under_object``
        paper = paper[np.r_[True, np.linalg.norm(paper[1:] - desk, axis=1) >= 2 * HIDDEN_UNLIKE]]
        edge, _, other = _object_sides(flat, paper, desk, (a + t[:, None] * (b - a))[None], n[None, None])
        outlined[s], unlike[s] = edge.mean(), _longest_run(other)[0] / len(t)
    strip = (unlike >= STRIP_OUTSIDE) & (outlined < OBJECT_BETTER) & (hue >= HIDDEN_UNLIKE)
    along = (outlined < OBJECT_ALONG) & (unlike >= OBJECT_RUN) & ~strip
    # A card's band ends with the card: past the strip side's far end (away from the object) the desk lies beyond
    # its line, not the strip. A book, a cloth's band or a keyboard along a page's side runs on past its corner
    # (review of finder-occl3: a right page beside a book, a phone along the next side, was asked).
    u = np.linspace(0.04, 0.12, 6)[:, None]
    for s in np.flatnonzero(strip):
        a, b, length, n = sides[s]
        ends = ([(b, (b - a) / max(length, 1e-9))] if along[(s - 1) % 4] else []) + \
            ([(a, (a - b) / max(length, 1e-9))] if along[(s + 1) % 4] else [])
        for end, d in ends:
            past = np.concatenate([end + u * length * d - o * n for o in (OBJECT_IN, 2 * OBJECT_IN)])
            past = np.clip(past, 0, [w - 1, h - 1]).astype(np.float32)
            far = np.median(cv2.remap(flat, past[:, :1], past[:, 1:], cv2.INTER_LINEAR).reshape(-1, 3), axis=0)
            if np.linalg.norm(far - desk) < np.linalg.norm(far - np.median(beyond[s], axis=0)):
                return True
    return False


def _ring_colours(flat: np.ndarray, sides: list) -> tuple:
    """Along the answer's four sides (``_inward`` of each), at 48 points, the texture-free view ``flat`` 2 OBJECT_IN px
    outside (4, 48, 3) and the median 2 OBJECT_IN px inside each side (4, 3), with the desk (the median outside all
    round) and the points' shares along the sides: what ``_band_beside_object`` and ``_band_across`` compare."""
    t = np.linspace(0.03, 0.97, 48)
    ring = np.stack([a + t[:, None] * (b - a) for a, b, _, _ in sides])   # (4, T, 2)
    norms = np.stack([n for _, _, _, n in sides])[:, None]
    beyond = _sample(flat, (ring - 2 * OBJECT_IN * norms).reshape(-1, 2)).reshape(4, len(t), -1)
    inside = np.median(_sample(flat, (ring + 2 * OBJECT_IN * norms).reshape(-1, 2)).reshape(4, len(t), -1), axis=1)
    return t, beyond, inside, np.median(beyond.reshape(-1, beyond.shape[-1]), axis=0)


def _texture_free_around(small: np.ndarray, pts: np.ndarray, margin: int):
    """The texture-free view (``_texture_free``) of the crop around points (..., 2), ``margin`` px wider, and the
    crop's corner (x, y); None where the crop is under 3 px. The crop is padded by the median's radius too: the median
    of a crop is the photo's at least its radius in from the crop's edge (only the median's time around the points)."""
    pad = margin + max(MEDIANS) // 2
    x0, y0 = np.maximum(np.floor(pts.reshape(-1, 2).min(0) - pad), 0).astype(int)
    x1, y1 = np.minimum(np.ceil(pts.reshape(-1, 2).max(0) + pad) + 1, [small.shape[1], small.shape[0]]).astype(int)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return None
    return _texture_free(np.ascontiguousarray(small[y0:y1, x0:x1])), np.array([x0, y0])


def _object_lines(small, paper, desk, a, b, n, t, oa, ob, reach):
    """Side a–b moved by ``oa``, ``ob`` along ``n`` (``_under_object``): the new ends and each line's share of paper
    inside and desk outside over what an object does not hide (-1 where no object hides OBJECT_RUN of it, or more
    than 1 - SEEN_SHARE), less a little for the distance moved."""
    pa, pb, cand, nn = _moved_sides(a, b, n, oa, ob, t)
    # The lines in the texture-free view unblurred (an object's edge is crisp), taken only around them
    around = _texture_free_around(small, cand, 2 * OBJECT_IN + 2)
    if around is None:
        return None, None, None, None, None
    sharp, origin = around
    edge, hidden, _ = _object_sides(sharp, paper, desk, cand - origin, np.broadcast_to(nn[:, None], cand.shape))
    hid, end = _longest_run(hidden, where=True)
    seen = np.maximum(len(t) - hid, SEEN_SHARE * len(t))
    support = edge.sum(1) / seen - 1e-3 * (np.abs(oa) + np.abs(ob)) / max(reach, 1e-6)
    support[(hid < OBJECT_RUN * len(t)) | (hid > (1 - SEEN_SHARE) * len(t))] = -1.0
    # The page's edge goes in under the object and comes out beyond it: seen (OBJECT_RUN) at both ends of the line. A
    # line tilted into a soft shadow's dark end has shaded paper or desk on both sides there, as unlike the lit paper
    # and desk as an object; but that stretch ends the line (tune2 soft_shadow/1003, tune3 occluder/1106).
    support[(end - hid < OBJECT_RUN * len(t)) | (end > (1 - OBJECT_RUN) * len(t))] = -1.0
    return pa, pb, support, end - hid, end


def _object_ends(small: np.ndarray, pa: np.ndarray, pb: np.ndarray, nn: np.ndarray, t0: float, t1: float
                 ) -> np.ndarray:
    """How crisp the ends of the stretch ``t0``–``t1`` of line pa–pb are (``_under_object``): at each end, just
    inside and just outside the line (OBJECT_IN px along ``nn``), the largest change over OBJECT_STEP px along the line
    as a share of the change from OBJECT_END px beyond the end to as far within (the texture-free view unblurred: its
    median keeps a step a step, a shadow's penumbra a ramp). (2, 2): per end, inside and outside."""
    u = (pb - pa) / max(float(np.linalg.norm(pb - pa)), 1e-6)
    s = np.arange(-OBJECT_END, OBJECT_END + 1, dtype=np.float32)
    ends = [pa + t0 * (pb - pa), pa + t1 * (pb - pa)]
    pts = np.array([[e + o * nn + k * si * u for si in s]
                    for e, k in zip(ends, (1, -1), strict=True) for o in (OBJECT_IN, -OBJECT_IN)])
    around = _texture_free_around(small, pts, OBJECT_END + OBJECT_IN + 4)
    if around is None:
        return np.zeros((2, 2))
    view, origin = around
    prof = _sample(view, (pts - origin).reshape(-1, 2)).reshape(4, len(s), -1)   # the object at +s
    q = OBJECT_END // 3
    total = np.linalg.norm(prof[:, -q:].mean(1) - prof[:, :q].mean(1), axis=-1)
    step = np.linalg.norm(prof[:, OBJECT_STEP:] - prof[:, :-OBJECT_STEP], axis=-1).max(1)
    return (step / np.maximum(total, 1e-6)).reshape(2, 2) * (total > HIDDEN_UNLIKE).reshape(2, 2)


def _band_across(flat: np.ndarray, quad: np.ndarray) -> np.ndarray | None:
    """The card with its band where ``_band_beside_object`` found one left out beside an object (issue 17, occluder,
    finder-occl4), or None. Beyond a strip side, walked out along its normal: where the band's colour (the median just
    outside) gives way to the desk's in a step, over BAND_SEEN of the side at least, is the band's outer edge (a line
    fitted to those points). Along it, just inside, the band's run ends at the card's two corners. The far side (its
    line through the run's end) is kept; the near one, along the object's edge, is replaced by a line through the
    other end parallel to the far side."""
    q = order_corners(quad)
    h, w = flat.shape[:2]
    sides = [_inward(q, k) for k in range(4)]
    _, beyond, inside, desk = _ring_colours(flat, sides)
    best = None
    for s in range(4):
        a, b, length, n = sides[s]
        band = np.median(beyond[s], axis=0)
        gap = float(np.linalg.norm(band - desk))
        if gap < 2 * HIDDEN_UNLIKE or np.linalg.norm(band - inside[s]) < 2 * HIDDEN_UNLIKE:
            continue
        reach = int(BAND_WIDTH[1] * min(sides[s - 1][2], sides[(s + 1) % 4][2])) + 2
        ks = np.arange(2, reach)
        ts = np.linspace(0.05, 0.95, 37)
        pts = (a + ts[:, None] * (b - a))[:, None] - ks[None, :, None] * n
        vals = _sample(flat, np.clip(pts, 0, [w - 1, h - 1]).reshape(-1, 2)).reshape(len(ts), len(ks), -1)
        is_band = np.linalg.norm(vals - band, axis=-1) < 0.5 * gap
        is_desk = np.linalg.norm(vals - desk, axis=-1) < 0.5 * gap
        # the band from the side out to its first desk sample, unbroken
        first = np.where(is_desk.any(1), is_desk.argmax(1), -1)
        ok = np.array([f > 3 and is_band[i, :f].mean() > 0.9 for i, f in enumerate(first)])
        if ok.mean() < BAND_SEEN:
            continue
        width = ks[first[ok]].astype(float) - 0.5
        coef = np.polyfit(ts[ok], width, 1)
        res = np.abs(np.polyval(coef, ts[ok]) - width)
        keep = res < max(2.0, 2 * np.median(res))
        if keep.sum() < BAND_SEEN * len(ts):
            continue
        coef = np.polyfit(ts[ok][keep], width[keep], 1)
        oa, ob = a - np.polyval(coef, 0.0) * n, b - np.polyval(coef, 1.0) * n   # the outer edge's line
        # along it, just inside the band, out to a side's length past either end (the near end may lie far out)
        u = np.linspace(-1.0, 2.0, int(3 * length) + 1)
        line = oa + u[:, None] * (ob - oa) + 3.0 * n
        col = _sample(flat, np.clip(line, 0, [w - 1, h - 1]))
        inb = np.linalg.norm(col - band, axis=-1) < 0.5 * gap
        mid = np.searchsorted(u, 0.5)
        if not inb[mid]:
            continue
        lo = mid - np.argmin(inb[mid::-1]) + 1 if not inb[:mid + 1].all() else 0
        hi = mid + np.argmin(inb[mid:]) - 1 if not inb[mid:].all() else len(u) - 1
        if lo == 0 or hi == len(u) - 1:
            continue
        ends = [oa + u[lo] * (ob - oa), oa + u[hi] * (ob - oa)]
        # the far side (through its end of the run) is right; the near one is not
        prev, nxt = sides[s - 1], sides[(s + 1) % 4]
        off = [abs(float((ends[0] - prev[0]) @ prev[3])), abs(float((ends[1] - nxt[0]) @ nxt[3]))]
        near = int(np.argmax(off))
        if min(off) > 3.0 or max(off) < 4.0:
            continue
        # a strip of the band's colour beyond the near side too wraps round the corner: a folder or a tray under a
        # page, not a card's band beside an object (review of finder-occl4: tune3 nested/1122 at 720p)
        k_side = (s - 1) % 4 if near == 0 else (s + 1) % 4
        if (np.linalg.norm(beyond[k_side] - band, axis=-1) < 0.5 * gap).mean() > 0.5:
            continue
        opp = (q[(s + 2) % 4], q[(s + 3) % 4])
        if near == 0:     # side s-1 along the object replaced, side s+1 kept
            far, d, k_far, k_near, k_opp, end = (q[(s + 1) % 4], q[(s + 2) % 4]), q[(s + 2) % 4] - q[(s + 1) % 4], \
                (s + 1) % 4, s, (s + 3) % 4, ends[0]
        else:             # side s+1 along the object replaced, side s-1 kept
            far, d, k_far, k_near, k_opp, end = (q[(s - 1) % 4], q[s]), q[(s - 1) % 4] - q[s], \
                s, (s + 1) % 4, (s + 2) % 4, ends[1]
        corner, other = _meet_segments((oa, ob), far), _meet_segments((end, end + d), opp)
        if corner is None or other is None:
            continue
        new = q.copy()
        new[k_far], new[k_near], new[k_opp] = corner, end, other
        if not _convex(new) or not _page_shaped(new):
            continue
        if best is None or abs(_area(new)) > abs(_area(best)):
            best = new
    return best

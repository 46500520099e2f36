// Package bom describes what crossed: the bill of materials of a transfer or
// a bundle. It lists every component version with its descriptor digest,
// resources and references, every image with its digest and platforms, and
// every signature found on either, with whether ferry verified it and with
// which key.
//
// In ferry's flow the transfer engine builds a BOM from its Plan (and the
// signature checks done while planning), `ferry transfer --report` and
// `ferry bundle create --report` write it, a bundle carries it inside its
// metadata artifact, and `ferry bundle inspect -o json` prints it. The
// package is data only: no network, no disk. Every list is sorted so that
// the same crossing gives the same bytes, which lets a machine compare a
// BOM with what arrived and a person read it.
package bom

package config

import "fmt"

// themeNames are the colour themes the dashboard draws with.
var themeNames = []string{"dark", "light", "colorblind"}

// Display is how the dashboard draws; its keys sit at the top level of
// the file.
type Display struct {
	// Theme is the colour theme: dark (default), light or colorblind (a
	// colour-blind-safe palette). --theme overrides it; NO_COLOR still
	// turns colour off.
	Theme ThemeName `yaml:"theme,omitempty"`
}

// ThemeName is one of dark, light or colorblind; any other value is
// rejected when decoded, naming the key path.
type ThemeName string

// Themes lists the theme names, the default first.
func Themes() []string { return append([]string(nil), themeNames...) }

// UnmarshalYAML accepts only a known theme name.
func (t *ThemeName) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	if s != "" && !contains(themeNames, s) {
		return fmt.Errorf("unknown theme %q (want %s)", clip(s), oneOf(themeNames))
	}
	*t = ThemeName(s)
	return nil
}

// Package shim exposes the upstream provider's constructor, which lives in an internal package.
package shim

import (
	"github.com/hashicorp/terraform-plugin-framework/provider"
	upstream "github.com/terraform-providers/terraform-provider-random/internal/provider"
)

// NewProvider returns the upstream Terraform provider.
func NewProvider() provider.Provider { return upstream.New() }
